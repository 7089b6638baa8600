import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../logger.js';
import { EventBus } from './event-bus.js';

/** The commands the bus sends, recorded; `fail` makes them reject (Redis unreachable). */
class FakeRedis extends EventEmitter {
  commands: string[] = [];
  fail = false;
  private run(line: string) {
    this.commands.push(line);
    return this.fail ? Promise.reject(new Error('Connection is closed.')) : Promise.resolve(1);
  }
  subscribe(...channels: string[]) {
    return this.run(`SUBSCRIBE ${channels.join(' ')}`);
  }
  unsubscribe(...channels: string[]) {
    return this.run(`UNSUBSCRIBE ${channels.join(' ')}`);
  }
  publish(channel: string, message: string) {
    return this.run(`PUBLISH ${channel} ${message}`);
  }
  quit() {
    return this.run('QUIT');
  }
  disconnect() {}
}

function bus(namespace = '-t1') {
  const publisher = new FakeRedis();
  const subscriber = new FakeRedis();
  const events = new EventBus({
    publisher: publisher as unknown as Redis,
    subscriber: subscriber as unknown as Redis,
    namespace,
    logger: createLogger({ service: 'test', level: 'silent' }),
  });
  return { events, publisher, subscriber };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('EventBus', () => {
  it('publishes an envelope on the namespaced channel', async () => {
    const { events, publisher } = bus();
    await events.publish('user:42', { type: 'message', id: '1' });
    expect(publisher.commands).toEqual(['PUBLISH live:-t1:user:42 {"event":{"type":"message","id":"1"}}']);
  });

  it('delivers channel messages to the listeners of that topic only', async () => {
    const { events, subscriber } = bus();
    const got: unknown[] = [];
    const unsubscribe = events.subscribe('user:1', (event) => got.push(event));
    await unsubscribe.ready;
    subscriber.emit('message', 'live:-t1:user:1', '{"event":{"n":1}}');
    subscriber.emit('message', 'live:-t1:user:2', '{"event":{"n":2}}');
    subscriber.emit('message', 'live:other:user:1', '{"event":{"n":3}}');
    expect(got).toEqual([{ n: 1 }]);
  });

  it('counts subscriptions per channel: one SUBSCRIBE in effect, one UNSUBSCRIBE after the last listener', async () => {
    const { events, subscriber } = bus('');
    const first = events.subscribe('user:1', () => {});
    const second = events.subscribe('user:1', () => {});
    await Promise.all([first.ready, second.ready]);
    expect(events.subscriptions).toBe(1);
    first();
    first();
    expect(subscriber.commands.filter((c) => c.startsWith('UNSUBSCRIBE'))).toEqual([]);
    second();
    await settle();
    expect(subscriber.commands.filter((c) => c.startsWith('UNSUBSCRIBE'))).toEqual(['UNSUBSCRIBE live:user:1']);
    expect(events.subscriptions).toBe(0);
  });

  it('drops malformed payloads and survives a listener that throws', async () => {
    const { events, subscriber } = bus();
    const got: unknown[] = [];
    events.subscribe('user:1', () => {
      throw new Error('listener bug');
    });
    events.subscribe('user:1', (event) => got.push(event));
    for (const payload of ['not json', '{"event":"x"}', '[]']) subscriber.emit('message', 'live:-t1:user:1', payload);
    subscriber.emit('message', 'live:-t1:user:1', '{"event":{"ok":true}}');
    expect(got).toEqual([{ ok: true }]);
  });

  it('resubscribes every wanted channel when the connection is ready again, also those whose SUBSCRIBE failed', async () => {
    const { events, subscriber } = bus();
    subscriber.fail = true;
    const failed = events.subscribe('user:1', () => {});
    await expect(failed.ready).rejects.toThrow('Connection is closed.');
    subscriber.fail = false;
    events.subscribe('user:2', () => {});
    subscriber.commands = [];
    subscriber.emit('ready');
    expect(subscriber.commands).toEqual(['SUBSCRIBE live:-t1:user:1 live:-t1:user:2']);
  });

  it('reports a lost subscriber connection once per loss, not for each failed reconnection, and not after close', async () => {
    const { events, subscriber } = bus();
    let interruptions = 0;
    const stop = events.onInterrupted(() => (interruptions += 1));
    subscriber.emit('ready');
    subscriber.emit('close');
    // ioredis closes again after each failed reconnection attempt: the same outage.
    subscriber.emit('close');
    subscriber.emit('close');
    expect(interruptions).toBe(1);
    subscriber.emit('ready');
    subscriber.emit('close');
    expect(interruptions).toBe(2);
    stop();
    subscriber.emit('ready');
    subscriber.emit('close');
    expect(interruptions).toBe(2);
    events.onInterrupted(() => (interruptions += 1));
    subscriber.emit('ready');
    await events.close();
    subscriber.emit('close');
    expect(interruptions).toBe(2);
  });

  it('closes its subscriber connection and refuses new subscriptions after', async () => {
    const { events, subscriber } = bus();
    events.subscribe('user:1', () => {});
    await events.close();
    expect(subscriber.commands.at(-1)).toBe('QUIT');
    expect(() => events.subscribe('user:1', () => {})).toThrow('after close');
  });
});
