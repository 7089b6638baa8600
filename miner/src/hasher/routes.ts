import { createHash } from 'node:crypto';
import { HttpError, express, sleep, type Router } from '@switchyard/infra';

export const MAX_HASH_INPUT = 64 * 1024;

export interface HasherOptions {
  delayMs: number;
  serviceId: () => string;
}

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * `POST /` raw bytes → hex SHA-256 as text/plain after `delayMs`. Unlike rng, requests run
 * concurrently: the hasher is slow per call but never the bottleneck.
 */
export function hasherRoutes(options: HasherOptions) {
  // Any content type is hashed as raw bytes (curl --data-binary sends form-urlencoded); a larger
  // body is refused by the parser with 413 payload_too_large before it is buffered whole.
  const rawBody = express.raw({ type: () => true, limit: MAX_HASH_INPUT });

  return (router: Router) => {
    router.get('/', (_req, res) => {
      res.type('text/plain').send(`HASHER running on ${options.serviceId()}\n`);
    });

    router.post('/', rawBody, async (req, res) => {
      // The global JSON parser has already consumed an application/json body into an object:
      // its original bytes are gone, so hashing it would hash something else.
      if (req.body !== undefined && !Buffer.isBuffer(req.body)) {
        throw new HttpError(415, 'unsupported_media_type', 'send the bytes to hash as application/octet-stream');
      }
      const data: Buffer = req.body ?? Buffer.alloc(0);
      await sleep(options.delayMs);
      res.type('text/plain').send(sha256Hex(data));
    });
  };
}
