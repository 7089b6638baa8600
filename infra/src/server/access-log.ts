/**
 * The access line, one per request, written in pino's own format to pino's own destination but
 * assembled here from the logger's prepared parts (level prefix, timestamp function, bindings,
 * line end). A generic `logger.info(fields, msg)` walks the fields object, looks up a serializer
 * and a stringifier for each key and checks every value's type; for five fields known here in
 * advance that walk was most of the line's cost, on every request of every service (see
 * BENCHMARKS.md, "Gateway hop"). The result is byte for byte the line pino would have written
 * (access-log.test.ts compares them), so log readers see no difference.
 *
 * A logger whose lines pino must transform (a `formatters.log`, a mixin, a multistream that wants
 * each line's level) gets its lines through pino as usual.
 */
import { pino, type Logger } from 'pino';

export interface AccessFields {
  method: string;
  path: string;
  status: number;
  ms: number;
  requestId: string;
}

type Level = 'info' | 'debug';

/** The parts of a pino logger this writer uses, read once: pino exports their symbols (`pino.symbols`) for extensions. */
interface LineParts {
  /** `{"level":30` and the like, per level number. */
  levelPrefix: Record<number, string>;
  /** `,"time":"…"`, as the logger is configured. */
  time: () => string;
  /** The logger's bindings, `,"service":"gateway",…`. */
  bindings: string;
  /** `}` and the line end. */
  end: string;
  /** `,"msg":"request"` with the logger's message key. */
  message: string;
  destination: { write(line: string): unknown };
}

export class AccessLog {
  /** undefined: pino builds the line itself (see the module's comment). */
  private readonly parts: LineParts | undefined;

  constructor(private readonly logger: Logger) {
    this.parts = lineParts(logger);
  }

  write(level: Level, fields: AccessFields): void {
    const { logger, parts } = this;
    if (!logger.isLevelEnabled(level)) return;
    if (!parts) return void logger[level](fields, 'request');
    const line =
      parts.levelPrefix[logger.levels.values[level]!]! +
      parts.time() +
      parts.bindings +
      ',"method":' +
      jsonString(fields.method) +
      ',"path":' +
      jsonString(fields.path) +
      ',"status":' +
      fields.status +
      ',"ms":' +
      fields.ms +
      ',"requestId":' +
      jsonString(fields.requestId) +
      parts.message +
      parts.end;
    parts.destination.write(line);
  }
}

function lineParts(logger: Logger): LineParts | undefined {
  const symbols = pino.symbols as unknown as Record<string, symbol>;
  const internal = logger as unknown as Record<symbol, unknown>;
  const part = (name: string) => internal[symbols[name]!];
  const levelPrefix = part('lsCacheSym');
  const time = part('timeSym');
  const bindings = part('chindingsSym');
  const end = part('endSym');
  const messageKey = part('messageKeySym');
  const destination = part('streamSym') as (LineParts['destination'] & Record<symbol, unknown>) | undefined;
  const formatters = part('formattersSym') as { log?: unknown } | undefined;
  const transforms = formatters?.log !== undefined || Boolean(part('mixinSym')) || Boolean(destination?.[symbols.needsMetadataGsym!]);
  if (transforms || typeof levelPrefix !== 'object' || typeof time !== 'function' || typeof bindings !== 'string' || typeof end !== 'string') return undefined;
  if (typeof messageKey !== 'string' || typeof destination?.write !== 'function') return undefined;
  return {
    levelPrefix: levelPrefix as Record<number, string>,
    time: time as () => string,
    bindings,
    end,
    message: `,${JSON.stringify(messageKey)}:"request"`,
    destination,
  };
}

/** Characters a JSON string must escape; without them the text is quoted as it is. */
// eslint-disable-next-line no-control-regex
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

function jsonString(text: string): string {
  return NEEDS_ESCAPE.test(text) ? JSON.stringify(text) : `"${text}"`;
}
