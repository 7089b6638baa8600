import { get } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { NoHealthyInstance, UpstreamTimeout, UpstreamUnavailable } from '../client/errors.js';
import { errorHandler, toErrorResponse } from './error-handler.js';
import { HttpError, badRequest, notFound } from './http-error.js';

/** Runs a real body parser over `body` and returns the error it raises. */
function bodyParserError(parser: express.RequestHandler, body: string, headers: Record<string, string>): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const app = express();
    app.use(parser);
    app.post('/', () => reject(new Error('body parser accepted the body')));
    app.use(((error, _req, res, _next) => {
      resolve(error);
      res.status(204).end();
    }) as express.ErrorRequestHandler);
    const server = app.listen(0, async () => {
      const { port } = server.address() as { port: number };
      try {
        await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body, headers });
      } catch (error) {
        reject(error);
      } finally {
        server.close();
      }
    });
  });
}

describe('toErrorResponse', () => {
  it('passes an HttpError through with its code, message and details', () => {
    expect(toErrorResponse(new HttpError(409, 'conflict', 'already friends', { with: 'u2' }))).toEqual({
      status: 409,
      body: { error: { code: 'conflict', message: 'already friends', with: 'u2' } },
    });
    expect(toErrorResponse(badRequest('n must be positive'))).toEqual({
      status: 400,
      body: { error: { code: 'invalid_request', message: 'n must be positive' } },
    });
    expect(toErrorResponse(notFound()).status).toBe(404);
  });

  it('maps NoHealthyInstance to 503 no_healthy_instance naming the service', () => {
    const { status, body } = toErrorResponse(new NoHealthyInstance('rng', 'no passing instance of rng in Consul'));
    expect(status).toBe(503);
    expect(body.error).toEqual({ code: 'no_healthy_instance', message: 'no passing instance of rng in Consul', service: 'rng' });
  });

  it('maps UpstreamTimeout to 504 and UpstreamUnavailable to 502', () => {
    expect(toErrorResponse(new UpstreamTimeout('hasher', 'too slow'))).toMatchObject({
      status: 504,
      body: { error: { code: 'upstream_timeout', service: 'hasher' } },
    });
    expect(toErrorResponse(new UpstreamUnavailable('auth', 'refused'))).toMatchObject({
      status: 502,
      body: { error: { code: 'upstream_unavailable', service: 'auth' } },
    });
  });

  it('maps a ZodError to 400 invalid_request listing the fields', () => {
    const parsed = z.object({ email: z.string().email(), age: z.number() }).safeParse({ email: 'x', age: 'y' });
    expect(parsed.success).toBe(false);
    const { status, body } = toErrorResponse(parsed.error);
    expect(status).toBe(400);
    expect(body.error.code).toBe('invalid_request');
    expect(body.error.message).toContain('email');
    expect(body.error.message).toContain('age');
  });

  it('maps malformed JSON from the real body parser to 400 invalid_json', async () => {
    const error = await bodyParserError(express.json(), '{"a":', { 'content-type': 'application/json' });
    expect(toErrorResponse(error)).toEqual({
      status: 400,
      body: { error: { code: 'invalid_json', message: 'request body is not valid JSON' } },
    });
  });

  it('maps an oversized body to 413 payload_too_large', async () => {
    const error = await bodyParserError(express.json({ limit: '10b' }), JSON.stringify({ text: 'x'.repeat(100) }), {
      'content-type': 'application/json',
    });
    expect(toErrorResponse(error)).toMatchObject({ status: 413, body: { error: { code: 'payload_too_large' } } });
  });

  it('maps an unsupported content encoding to 415 unsupported_encoding', async () => {
    const error = await bodyParserError(express.json(), '{}', { 'content-type': 'application/json', 'content-encoding': 'zstd-bogus' });
    expect(toErrorResponse(error)).toMatchObject({ status: 415, body: { error: { code: 'unsupported_encoding' } } });
  });

  it('maps anything unknown to a bare 500 without the message or stack', () => {
    const error = new Error('connect ECONNREFUSED 10.0.0.7:3306 password=hunter2');
    const { status, body } = toErrorResponse(error);
    expect(status).toBe(500);
    expect(body).toEqual({ error: { code: 'internal_error', message: 'internal error' } });
    expect(JSON.stringify(body)).not.toContain('hunter2');
    expect(toErrorResponse('a string').status).toBe(500);
    expect(toErrorResponse(null).status).toBe(500);
    expect(toErrorResponse(undefined).status).toBe(500);
  });

  it('does not trust a 5xx status found on an unknown error', () => {
    expect(toErrorResponse(Object.assign(new Error('db down'), { status: 503 }))).toEqual({
      status: 500,
      body: { error: { code: 'internal_error', message: 'internal error' } },
    });
  });
});

describe('errorHandler after the headers went out', () => {
  /** GETs `/` from an app whose route sends part of a chunked body, then fails. */
  function partialAnswer(): Promise<{ status: number; received: string; complete: boolean }> {
    const app = express();
    app.get('/', (_req, res, next) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first half, ');
      setImmediate(() => next(new Error('failed mid-body')));
    });
    app.use(errorHandler(pino({ level: 'silent' })));
    const server = app.listen(0, '127.0.0.1');
    return new Promise((resolve, reject) => {
      server.once('listening', () => {
        const { port } = server.address() as AddressInfo;
        get({ host: '127.0.0.1', port, path: '/' }, (res) => {
          let received = '';
          res.setEncoding('utf8').on('data', (chunk: string) => (received += chunk));
          // 'close' comes after a clean end and after a cut alike; `complete` tells them apart.
          res.once('close', () => {
            server.close();
            resolve({ status: res.statusCode ?? 0, received, complete: res.complete });
          });
          res.once('error', () => undefined);
        }).once('error', reject);
      });
    });
  }

  it('cuts the connection instead of ending the body cleanly, so the client sees a truncated transfer', async () => {
    const answer = await partialAnswer();
    expect(answer.status).toBe(200);
    expect(answer.received).toBe('first half, ');
    expect(answer.complete).toBe(false);
  });
});
