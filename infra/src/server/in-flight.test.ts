/**
 * InFlightResponses holds exactly the responses that have not closed, whatever order they close
 * in, and a response's own index never points at another after the swap that fills its slot.
 */
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { InFlightResponses } from './in-flight.js';

/** What the tracker needs of a response: its 'close' event. */
function response(name: string): ServerResponse {
  return Object.assign(new EventEmitter(), { name }) as unknown as ServerResponse;
}

const names = (list: ServerResponse[]) => list.map((res) => (res as unknown as { name: string }).name).sort();

describe('InFlightResponses', () => {
  it('forgets a response when it closes, first, last or in the middle', () => {
    const tracked = new InFlightResponses();
    const all = ['a', 'b', 'c', 'd', 'e'].map(response);
    for (const res of all) tracked.add(res);
    expect(tracked.size).toBe(5);

    all[2]!.emit('close');
    expect(names(tracked.current())).toEqual(['a', 'b', 'd', 'e']);
    all[0]!.emit('close');
    expect(names(tracked.current())).toEqual(['b', 'd', 'e']);
    all[4]!.emit('close');
    expect(names(tracked.current())).toEqual(['b', 'd']);
    // A response moved into a freed slot is still found at its new place.
    all[3]!.emit('close');
    expect(names(tracked.current())).toEqual(['b']);
    all[1]!.emit('close');
    expect(tracked.size).toBe(0);
  });

  it('ignores a second close and keeps the others', () => {
    const tracked = new InFlightResponses();
    const [a, b, c] = ['a', 'b', 'c'].map(response);
    for (const res of [a!, b!, c!]) tracked.add(res);
    a!.emit('close');
    a!.emit('close');
    expect(names(tracked.current())).toEqual(['b', 'c']);
  });

  it('stays exact over many responses closing in a shuffled order', () => {
    const tracked = new InFlightResponses();
    const open = new Map<string, ServerResponse>();
    let next = 0;
    // A fixed sequence from a small linear congruential generator: repeatable, no Math.random.
    let seed = 12345;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let step = 0; step < 5_000; step++) {
      if (open.size === 0 || random() < 0.55) {
        const name = `r${next++}`;
        const res = response(name);
        open.set(name, res);
        tracked.add(res);
      } else {
        const keys = [...open.keys()];
        const name = keys[Math.floor(random() * keys.length)]!;
        open.get(name)!.emit('close');
        open.delete(name);
      }
      if (step % 250 === 0) expect(names(tracked.current())).toEqual([...open.keys()].sort());
    }
    expect(names(tracked.current())).toEqual([...open.keys()].sort());
  });

  it('hands out a copy, so closing while iterating it skips nothing', () => {
    const tracked = new InFlightResponses();
    const all = ['a', 'b', 'c'].map(response);
    for (const res of all) tracked.add(res);
    const seen: ServerResponse[] = [];
    for (const res of tracked.current()) {
      seen.push(res);
      res.emit('close');
    }
    expect(seen).toHaveLength(3);
    expect(tracked.size).toBe(0);
  });
});
