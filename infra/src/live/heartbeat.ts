/**
 * WebSocket pings on a fixed period: a socket that has not answered the previous ping by the
 * next one is dead (peer gone without a FIN: a killed laptop, a cut tunnel) and is terminated,
 * so its session, subscriptions and buffers go. Browsers answer pings themselves.
 */
import type { WebSocket } from 'ws';

export class Heartbeat {
  private readonly alive = new Map<WebSocket, boolean>();
  private timer: NodeJS.Timeout | undefined;

  /** `onDead` is told of every socket terminated for a missed pong. */
  constructor(
    private readonly intervalMs: number,
    private readonly onDead: (ws: WebSocket) => void = () => {},
  ) {}

  track(ws: WebSocket): void {
    this.alive.set(ws, true);
    ws.on('pong', () => this.alive.set(ws, true));
    ws.once('close', () => this.alive.delete(ws));
    this.timer ??= setInterval(() => this.beat(), this.intervalMs).unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private beat(): void {
    for (const [ws, alive] of this.alive) {
      if (!alive) {
        this.alive.delete(ws);
        this.onDead(ws);
        ws.terminate();
        continue;
      }
      this.alive.set(ws, false);
      // A ping on a socket that just failed throws; its close event will clean up.
      try {
        ws.ping();
      } catch {
        /* closing already */
      }
    }
    if (this.alive.size === 0) this.stop();
  }
}
