import { describe, expect, it } from 'vitest';
import { WriteSlots } from '../../../src/main/peer/download/write-slots';

/** A task the test finishes by hand. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

const turns = async () => {
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
};

describe('WriteSlots', () => {
  it('runs at most two writes per file at once, in order, and other files independently', async () => {
    const slots = new WriteSlots(2);
    const started: string[] = [];
    const gates = new Map<string, ReturnType<typeof gate>>();
    const task = (name: string) => () => {
      started.push(name);
      const g = gate();
      gates.set(name, g);
      return g.opened.then(() => name);
    };
    const results = ['a1', 'a2', 'a3', 'a4'].map((name) => slots.run('a', task(name)));
    const other = slots.run('b', task('b1'));
    await turns();
    expect(started).toEqual(['a1', 'a2', 'b1']);
    gates.get('a2')!.open();
    await turns();
    expect(started).toEqual(['a1', 'a2', 'b1', 'a3']);
    for (const name of ['a1', 'a3', 'b1']) gates.get(name)!.open();
    await turns();
    gates.get('a4')!.open();
    expect(await Promise.all([...results, other])).toEqual(['a1', 'a2', 'a3', 'a4', 'b1']);
  });

  it('frees the slot of a failed write', async () => {
    const slots = new WriteSlots(1);
    await expect(slots.run('a', () => Promise.reject(new Error('EIO')))).rejects.toThrow('EIO');
    expect(await slots.run('a', async () => 'next')).toBe('next');
  });
});
