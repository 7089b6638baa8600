/**
 * Cross-instance fan-out of live events over Redis pub/sub: an instance publishes an event for a
 * topic (`user:<id>`), and every instance holding a subscriber of that topic receives it. No
 * instance needs to know the others; Redis is the only meeting point.
 *
 * Delivery is at most once and live only: an event published while a subscriber's connection to
 * Redis is down is lost for it (pub/sub keeps nothing). Clients recover what they missed by
 * resuming from the store (the messenger's `?since=`), which is why every event carries ids.
 *
 * Trace context travels inside the payload, so the delivery span on the receiving instance is a
 * child of the publish span: one trace from the request that caused the event to its delivery.
 */
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, context, propagation } from '@opentelemetry/api';
import type { Redis } from 'ioredis';
import { Counter } from 'prom-client';
import type { Logger } from '../logger.js';
import { metricsRegistry } from '../metrics.js';
import { tracer } from '../tracing.js';
import { channelFor, decodeEnvelope, encodeEnvelope, topicKind, type LiveEvent } from './envelope.js';

export type { LiveEvent } from './envelope.js';

/** Stops one subscription; `ready` settles once Redis confirmed the SUBSCRIBE (events flow from then on). */
export interface Unsubscribe {
  (): void;
  /**
   * Resolves once the channel is subscribed in Redis: anything published after that reaches the
   * listener. Await it before reading the store for a replay, so nothing falls between the two.
   * Rejects when Redis cannot be reached; the bus keeps retrying on reconnect regardless.
   */
  readonly ready: Promise<void>;
}

export type EventListener = (event: LiveEvent) => void;

export interface EventBusOptions {
  /** Publishes (commands on the shared connection). */
  publisher: Redis;
  /** A connection of its own: a Redis connection in subscriber mode runs no other command. */
  subscriber: Redis;
  /** SERVICE_NAME_SUFFIX: isolated stacks on one Redis never see each other's events. */
  namespace: string;
  logger: Logger;
}

const published = new Counter({
  name: 'switchyard_live_events_published_total',
  help: 'Live events published to Redis, by topic kind and outcome',
  labelNames: ['kind', 'outcome'],
  registers: [metricsRegistry],
});

const received = new Counter({
  name: 'switchyard_live_events_received_total',
  help: 'Live events received from Redis, by topic kind and outcome (delivered, malformed)',
  labelNames: ['kind', 'outcome'],
  registers: [metricsRegistry],
});

export class EventBus {
  private readonly listeners = new Map<string, Set<EventListener>>();
  private readonly interruptionListeners = new Set<() => void>();
  private readonly onMessage = (channel: string, message: string) => this.deliver(channel, message);
  private readonly onReady = () => {
    this.connected = true;
    this.resubscribeAll();
  };
  /** The subscriber connection closed; reported once per loss (a reconnection that fails closes again). */
  private readonly onConnectionClosed = () => {
    if (!this.connected || this.closed) return;
    this.connected = false;
    for (const listener of [...this.interruptionListeners]) {
      try {
        listener();
      } catch (error) {
        this.options.logger.error({ err: error }, 'live: an interruption listener threw');
      }
    }
  };
  private connected = false;
  private closed = false;

  constructor(private readonly options: EventBusOptions) {
    // Resubscribing is ours, not ioredis's (autoResubscribe is off): ioredis only remembers the
    // channels whose SUBSCRIBE succeeded, so one sent while Redis was down would be forgotten.
    options.subscriber.on('message', this.onMessage);
    options.subscriber.on('ready', this.onReady);
    options.subscriber.on('close', this.onConnectionClosed);
    this.connected = options.subscriber.status === 'ready';
  }

  /**
   * Calls `listener` each time the subscriber connection to Redis is lost after it was up: from
   * then until it is back and resubscribed, every event published is lost for this instance's
   * subscribers, silently (pub/sub keeps nothing). A consumer that must not miss events (the
   * messenger's sockets) ends what it serves so its clients resume from the store. Returns a
   * function that stops listening.
   */
  onInterrupted(listener: () => void): () => void {
    const entry = () => listener();
    this.interruptionListeners.add(entry);
    return () => this.interruptionListeners.delete(entry);
  }

  /**
   * Sends `event` to every subscriber of `topic` on every instance. Resolves once Redis took it
   * (not once anyone received it); rejects when Redis is unreachable: the caller decides whether
   * that fails its request (the messenger logs it: the message is stored, clients resume).
   */
  async publish(topic: string, event: object): Promise<void> {
    // Receivers drop anything but an object: fail here, where the mistake is.
    if (Array.isArray(event) || event === null || typeof event !== 'object') throw new TypeError('a live event is a JSON object');
    const kind = topicKind(topic);
    await tracer().startActiveSpan(`live.publish ${kind}`, { kind: SpanKind.PRODUCER, attributes: { 'live.topic': topic } }, async (span) => {
      try {
        const carrier: Record<string, string> = {};
        propagation.inject(context.active(), carrier);
        await this.options.publisher.publish(this.channel(topic), encodeEnvelope(event, carrier));
        published.inc({ kind, outcome: 'ok' });
      } catch (error) {
        published.inc({ kind, outcome: 'error' });
        span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
        throw error;
      } finally {
        span.end();
      }
    });
  }

  /**
   * Calls `listener` with every event published on `topic` from now on (see Unsubscribe.ready),
   * inside a `live.deliver <kind>` span parented on the publisher's. Subscriptions are counted per
   * channel: one SUBSCRIBE for the first listener, one UNSUBSCRIBE after the last.
   */
  subscribe(topic: string, listener: EventListener): Unsubscribe {
    if (this.closed) throw new Error('EventBus.subscribe after close');
    const channel = this.channel(topic);
    let set = this.listeners.get(channel);
    const first = !set;
    if (!set) this.listeners.set(channel, (set = new Set()));
    // A wrapper per call, so the same function subscribed twice is two subscriptions.
    const entry: EventListener = (event) => listener(event);
    set.add(entry);
    const ready = first ? this.redisSubscribe(channel) : this.redisSubscribe(channel, { quiet: true });
    // Nobody may be awaiting it; a rejection left unobserved must not crash the process.
    ready.catch(() => {});
    let active = true;
    const unsubscribe = () => {
      if (!active) return;
      active = false;
      const current = this.listeners.get(channel);
      if (!current) return;
      current.delete(entry);
      if (current.size > 0) return;
      this.listeners.delete(channel);
      if (this.closed) return;
      this.options.subscriber.unsubscribe(channel).catch((err: Error) => {
        this.options.logger.warn({ err: err.message, topicKind: topicKind(topic) }, 'live: UNSUBSCRIBE failed');
      });
    };
    return Object.assign(unsubscribe, { ready });
  }

  /** Listeners per channel now, for tests and metrics. */
  get subscriptions(): number {
    return this.listeners.size;
  }

  /** Stops delivering and closes the subscriber connection (the publisher is the context's to close). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.listeners.clear();
    this.interruptionListeners.clear();
    const { subscriber } = this.options;
    subscriber.off('message', this.onMessage);
    subscriber.off('ready', this.onReady);
    subscriber.off('close', this.onConnectionClosed);
    await subscriber.quit().catch(() => subscriber.disconnect());
  }

  private channel(topic: string): string {
    return channelFor(this.options.namespace, topic);
  }

  /**
   * SUBSCRIBE is idempotent in Redis, so a later listener of the same channel may ask again: its
   * `ready` then really means "confirmed", even when the first listener's SUBSCRIBE is in flight.
   */
  private async redisSubscribe(channel: string, { quiet = false } = {}): Promise<void> {
    try {
      await this.options.subscriber.subscribe(channel);
    } catch (error) {
      if (!quiet) this.options.logger.warn({ err: (error as Error).message }, 'live: SUBSCRIBE failed; retried when Redis is back');
      throw error;
    }
  }

  private resubscribeAll(): void {
    const channels = [...this.listeners.keys()];
    if (channels.length === 0 || this.closed) return;
    this.options.subscriber.subscribe(...channels).catch((err: Error) => {
      this.options.logger.warn({ err: err.message, channels: channels.length }, 'live: resubscribing failed; retried on the next reconnect');
    });
  }

  private deliver(channel: string, message: string): void {
    const set = this.listeners.get(channel);
    if (!set || set.size === 0) return;
    const topic = channel.slice(channelFor(this.options.namespace, '').length);
    const kind = topicKind(topic);
    const envelope = decodeEnvelope(message);
    if (!envelope) {
      received.inc({ kind, outcome: 'malformed' });
      // The payload may hold anything, users' words included: its size is enough to find it.
      this.options.logger.warn({ topicKind: kind, bytes: message.length }, 'live: malformed event dropped');
      return;
    }
    received.inc({ kind, outcome: 'delivered' });
    const parent = envelope.trace ? propagation.extract(ROOT_CONTEXT, envelope.trace) : ROOT_CONTEXT;
    tracer().startActiveSpan(`live.deliver ${kind}`, { kind: SpanKind.CONSUMER, attributes: { 'live.topic': topic, 'live.listeners': set.size } }, parent, (span) => {
      for (const listener of [...set]) {
        try {
          listener(envelope.event);
        } catch (error) {
          span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
          this.options.logger.error({ err: error, topicKind: kind }, 'live: an event listener threw');
        }
      }
      span.end();
    });
  }
}
