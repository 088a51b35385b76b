import { describe, expect, it } from 'vitest';
import { WritebackPacer } from '../../../src/main/peer/download/writeback-pacer';

/** A flush the test finishes by hand, to see what the pacer starts while one runs. */
function manualFlushes() {
  const started: string[] = [];
  const finishers: Array<(error?: Error) => void> = [];
  const flush = (file: string) =>
    new Promise<void>((resolve, reject) => {
      started.push(file);
      finishers.push((error) => (error ? reject(error) : resolve()));
    });
  const finishNext = async (error?: Error) => {
    finishers.shift()?.(error);
    // Let the pacer's settle handlers run.
    for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
  };
  return { started, flush, finishNext };
}

describe('WritebackPacer', () => {
  it('flushes a file once `everyBytes` were written to it, one flush at a time', async () => {
    const { started, flush, finishNext } = manualFlushes();
    const pacer = new WritebackPacer(flush, 100);
    pacer.wrote('a', 60);
    pacer.wrote('b', 99);
    expect(started).toEqual([]);
    pacer.wrote('a', 40);
    expect(started).toEqual(['a']);
    // b crosses its mark while a's flush runs: it waits for it instead of running alongside.
    pacer.wrote('b', 1);
    pacer.wrote('a', 100);
    expect(started).toEqual(['a']);
    await finishNext();
    expect(started).toEqual(['a', 'b']);
    await finishNext();
    expect(started).toEqual(['a', 'b', 'a']);
    await finishNext();
    // Counting starts again from zero after a flush.
    pacer.wrote('a', 99);
    expect(started).toHaveLength(3);
  });

  it('idle() waits for the flush in progress and drops what was still pending', async () => {
    const { started, flush, finishNext } = manualFlushes();
    const pacer = new WritebackPacer(flush, 10);
    pacer.wrote('a', 10);
    pacer.wrote('b', 10);
    let idle = false;
    const waiting = pacer.idle().then(() => (idle = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(idle).toBe(false);
    await finishNext();
    await waiting;
    expect(started).toEqual(['a']);
  });

  it('keeps the first flush error for the commit, once', async () => {
    const { flush, finishNext } = manualFlushes();
    const pacer = new WritebackPacer(flush, 10);
    pacer.wrote('a', 10);
    await finishNext(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
    pacer.wrote('b', 10);
    await finishNext(new Error('second'));
    await pacer.idle();
    expect(pacer.takeError()).toMatchObject({ code: 'EIO' });
    expect(pacer.takeError()).toBeNull();
  });
});
