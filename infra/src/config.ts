import { z } from 'zod';

/** Raised when the environment does not describe a runnable service. Its message is one line. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

const port = z.coerce.number().int().min(0).max(65535);
const url = z.string().url();

/** The variables every service understands. Services extend this with their own. */
export const baseConfigShape = {
  PORT: port.default(0),
  /** Address the instance is registered under; "auto" derives it from the host's interfaces. */
  ADVERTISE_ADDR: z.string().min(1).default('auto'),
  CONSUL_HTTP_ADDR: z
    .string()
    .default('http://127.0.0.1:8500')
    .transform((raw) => (/^https?:\/\//.test(raw) ? raw : `http://${raw}`))
    .pipe(url),
  /**
   * Consul's own variables, so one environment serves the `consul` CLI and our services alike.
   * The ACL token goes with every call to the agent (never logged, never echoed in errors).
   */
  CONSUL_HTTP_TOKEN: z
    .string()
    // A token read from a file often ends in a newline, which Node refuses in a header.
    .trim()
    .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces')
    .optional(),
  /** CA bundle (PEM file) that signed the agent's HTTPS certificate. */
  CONSUL_CACERT: z.string().optional(),
  /** True: HTTPS even when CONSUL_HTTP_ADDR says http:// or has no scheme (as Consul's CLI does). */
  CONSUL_HTTP_SSL: z.stringbool().default(false),
  /** False: accept any certificate from the agent (tests, bootstrapping only). */
  CONSUL_HTTP_SSL_VERIFY: z.stringbool().default(true),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.union([url, z.literal('')]).default(''),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** After deregistering, keep accepting requests this long so callers see the removal first. */
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).default(300),
  /** Upper bound for in-flight requests to finish once the listener is closed. */
  SHUTDOWN_DRAIN_MS: z.coerce.number().int().min(0).default(10_000),
  /**
   * The whole shutdown (deregister, grace, background stop, drain, closes, trace flush) ends
   * within this, whatever hangs: below the 30 s most supervisors (Kubernetes, compose) allow.
   */
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(1_000).default(25_000),
  SERVICE_VERSION: z.string().default('0.1.0'),
  /** One info line per request; benchmarks turn it off to measure the platform, not the log pipe. */
  ACCESS_LOG: z.stringbool().default(true),
  /**
   * Log lines are gathered for up to this long (or 4 KiB) and written together, as nginx's
   * access_log buffer/flush (log-lines.ts); 0 writes each line at once.
   */
  LOG_FLUSH_MS: z.coerce.number().int().min(0).max(10_000).default(100),
} as const;

export type BaseConfig = z.infer<z.ZodObject<typeof baseConfigShape>>;

/**
 * Parses `env` against the base shape plus `extra`. Any problem becomes a ConfigError whose
 * message names every offending variable on one line, e.g. `invalid configuration: PORT: ...`.
 */
export function loadConfig<E extends z.ZodRawShape = {}>(
  extra: E = {} as E,
  env: Record<string, string | undefined> = process.env,
): BaseConfig & z.infer<z.ZodObject<E>> {
  const schema = z.object({ ...baseConfigShape, ...extra });
  // Empty strings mean "unset" for optional values, as in most shells' `VAR= cmd`.
  const cleaned = Object.fromEntries(
    Object.entries(env).filter(([key, value]) => value !== '' || key === 'OTEL_EXPORTER_OTLP_ENDPOINT'),
  );
  const parsed = schema.safeParse(cleaned);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = issue.path.join('.') || '(root)';
      const given = typeof issue.path[0] === 'string' ? env[issue.path[0]] : undefined;
      const shown = given === undefined ? 'missing' : `got ${JSON.stringify(redactIfSecret(issue.path[0] as string, given))}`;
      return `${name}: ${issue.message} (${shown})`;
    });
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  }
  return parsed.data as BaseConfig & z.infer<z.ZodObject<E>>;
}

const SECRET_NAME = /SECRET|PASSWORD|TOKEN|KEY|_URL$/i;

/** Connection URLs and secrets may hold credentials: never echo them back. */
function redactIfSecret(name: string, value: string): string {
  return SECRET_NAME.test(name) ? '<redacted>' : value;
}
