import { randomBytes } from 'node:crypto';
import { HttpError, abortWhenClientLeaves, sleep, type Request, type Response, type Router } from '@switchyard/infra';
import { parseByteCount } from './byte-count.js';
import { QueueFull, SerialQueue, TaskAbandoned } from '../shared/serial-queue.js';
import { exposeQueueDepth } from './metrics.js';

export interface RngOptions {
  delayMs: number;
  queueLimit: number;
  serviceId: () => string;
}

/**
 * `GET /:n` → n random bytes, one request at a time per instance (see SerialQueue), each after
 * `delayMs`: the classic slow generator, capped at about 1000 / delayMs requests per second.
 */
export function rngRoutes(options: RngOptions) {
  const queue = new SerialQueue(options.queueLimit);
  exposeQueueDepth(queue);

  return (router: Router) => {
    router.get('/', (_req, res) => {
      res.type('text/plain').send(`RNG running on ${options.serviceId()}\n`);
    });

    router.get('/:n', async (req: Request<{ n: string }>, res: Response) => {
      const n = parseByteCount(req.params.n);
      const callerGone = abortWhenClientLeaves(res);
      try {
        const bytes = await queue.run(async () => {
          await sleep(options.delayMs);
          return randomBytes(n);
        }, callerGone);
        res.type('application/octet-stream').send(bytes);
      } catch (error) {
        if (error instanceof TaskAbandoned) return; // nobody is listening any more
        if (error instanceof QueueFull) throw new HttpError(503, 'rng_overloaded', `rng is overloaded: ${error.message}`);
        throw error;
      }
    });
  };
}

