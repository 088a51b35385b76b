import { describe, expect, it } from 'vitest';
import { InputQueue } from '../../../../src/main/peer/transport/data-lane/input-queue';

const bytes = (...values: number[]) => Uint8Array.from(values);

describe('InputQueue', () => {
  it('reads a length prefix and a frame split over several pieces', () => {
    const queue = new InputQueue();
    queue.push(bytes(0, 0));
    expect(queue.peekUint32()).toBeNull();
    queue.push(bytes());
    queue.push(bytes(1));
    queue.push(bytes(2, 0xaa, 0xbb));
    expect(queue.length).toBe(6);
    expect(queue.peekUint32()).toBe(258);
    expect([...queue.take(5)]).toEqual([0, 0, 1, 2, 0xaa]);
    expect(queue.length).toBe(1);
    expect(queue.peekUint32()).toBeNull();
  });

  it('hands payload out as views of the received pieces, never crossing one', () => {
    const first = bytes(1, 2, 3, 4);
    const queue = new InputQueue();
    queue.push(first);
    queue.push(bytes(5, 6));
    queue.take(1);
    const view = queue.takeUpTo(10);
    expect([...view]).toEqual([2, 3, 4]);
    expect(view.buffer).toBe(first.buffer);
    expect([...queue.takeUpTo(1)]).toEqual([5]);
    expect([...queue.takeUpTo(1)]).toEqual([6]);
    expect(queue.length).toBe(0);
  });

  it('detachFrom copies the unread part of pieces living in a reused buffer, and only those', () => {
    const shared = new Uint8Array(8);
    const own = bytes(9, 9);
    const queue = new InputQueue();
    shared.set([1, 2, 3, 4]);
    queue.push(shared.subarray(0, 4));
    queue.push(own);
    queue.take(1);
    queue.detachFrom(shared.buffer);
    shared.fill(0); // the socket writes its next record
    expect(queue.length).toBe(5);
    const detached = queue.takeUpTo(10);
    expect([...detached]).toEqual([2, 3, 4]);
    expect(detached.buffer).not.toBe(shared.buffer);
    expect(queue.takeUpTo(10).buffer).toBe(own.buffer);
  });

  it('clear() forgets everything', () => {
    const queue = new InputQueue();
    queue.push(bytes(0, 0, 0, 9));
    queue.clear();
    expect(queue.length).toBe(0);
    expect(queue.peekUint32()).toBeNull();
  });
});
