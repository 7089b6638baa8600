import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from 'pino';
import { ZodError } from 'zod';
import { UpstreamError } from '../client/errors.js';
import { unavailableDependency } from './dependency-errors.js';
import { HttpError } from './http-error.js';
import { pathOf } from './request-envelope.js';

interface ErrorBody {
  error: { code: string; message: string; [extra: string]: unknown };
}

/** Maps any thrown error to `{error:{code,message}}`; never leaks a stack trace to the client. */
export function toErrorResponse(error: unknown): { status: number; body: ErrorBody } {
  if (error instanceof HttpError) {
    return { status: error.status, body: { error: { code: error.code, message: error.message, ...error.details } } };
  }
  if (error instanceof UpstreamError) {
    return { status: error.status, body: { error: { code: error.code, message: error.message, service: error.service } } };
  }
  if (error instanceof ZodError) {
    const message = error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; ');
    return { status: 400, body: { error: { code: 'invalid_request', message } } };
  }
  const bodyParserType = (error as { type?: string } | null)?.type;
  if (bodyParserType === 'entity.parse.failed') {
    return { status: 400, body: { error: { code: 'invalid_json', message: 'request body is not valid JSON' } } };
  }
  if (bodyParserType === 'entity.too.large') {
    return { status: 413, body: { error: { code: 'payload_too_large', message: 'request body is too large' } } };
  }
  const status = (error as { status?: number } | null)?.status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const code = bodyParserType === 'encoding.unsupported' ? 'unsupported_encoding' : 'bad_request';
    return { status, body: { error: { code, message: (error as Error).message } } };
  }
  const dependency = unavailableDependency(error);
  if (dependency) {
    return { status: 503, body: { error: { code: 'dependency_unavailable', message: `${dependency} unavailable` } } };
  }
  return { status: 500, body: { error: { code: 'internal_error', message: 'internal error' } } };
}

/**
 * Answers a request with the JSON of `error` (toErrorResponse), logging what deserves it; cuts
 * the connection instead when part of the answer is already out. For handlers outside express
 * (ServiceParts.dispatch); express's own errors go through errorHandler, which calls it.
 */
export function respondWithError(logger: Logger): (error: unknown, req: IncomingMessage, res: ServerResponse) => void {
  return (error, req, res) => {
    const { status, body } = toErrorResponse(error);
    const path = pathOf(req);
    if (error instanceof UpstreamError) {
      // Expected operational answers (503/504/502 with a reason): no stack trace, one line.
      logger.warn({ upstream: error.service, code: error.code, method: req.method, path, status }, body.error.message);
    } else if (body.error.code === 'dependency_unavailable') {
      // A store outage: one line per request with the driver's reason, not a stack trace each.
      logger.warn({ err: (error as Error).message, method: req.method, path, status }, body.error.message);
    } else if (status >= 500) {
      logger.error({ err: error, method: req.method, path, status }, body.error.message);
    }
    if (res.headersSent) {
      // Part of the answer is out: ending it cleanly would let the client take a truncated body
      // for a complete one. Cutting the connection makes the transfer visibly incomplete.
      res.destroy();
      return;
    }
    sendJson(res, status, body);
  };
}

export function errorHandler(logger: Logger): ErrorRequestHandler {
  const respond = respondWithError(logger);
  return (error, req, res, _next) => respond(error, req, res);
}

/** A JSON answer as express's res.json writes it, for handlers that have no express response. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('content-length', Buffer.byteLength(text));
  res.end(text);
}

export const notFoundHandler: RequestHandler = (req, res) => {
  res.status(404).json({ error: { code: 'not_found', message: `no route for ${req.method} ${req.path}` } });
};
