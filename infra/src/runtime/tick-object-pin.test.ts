import { describe, expect, it } from 'vitest';
import { pinTickObjectShape, pinnedTickObject } from './tick-object-pin.js';

describe('pinTickObjectShape', () => {
  it('holds a real tick object of node (its symbol keys, its callback), once', async () => {
    pinTickObjectShape();
    const pinned = pinnedTickObject() as Record<string | symbol, unknown> | undefined;
    expect(pinned).toBeDefined();
    expect(typeof pinned!.callback).toBe('function');
    expect(Object.getOwnPropertySymbols(pinned!).map(String)).toEqual(expect.arrayContaining(['Symbol(async_id_symbol)', 'Symbol(trigger_async_id_symbol)']));
    pinTickObjectShape();
    expect(pinnedTickObject()).toBe(pinned);
    // Ticks still run, in order, once the hook that caught it is gone.
    const ran: number[] = [];
    await new Promise<void>((resolve) => {
      process.nextTick(() => ran.push(1));
      process.nextTick(() => (ran.push(2), resolve()));
    });
    expect(ran).toEqual([1, 2]);
  });
});
