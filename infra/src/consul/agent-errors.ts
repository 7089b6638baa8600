/**
 * Reading the errors of the `consul` client: whether the agent answered at all, and when it
 * refused us (ACLs), why, in words an operator can act on.
 */

/** The HTTP status of a Consul client error when the agent answered; undefined for network errors. */
export function httpStatusOf(error: unknown): number | undefined {
  const status = (error as { response?: { statusCode?: unknown } } | undefined)?.response?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

/**
 * Why the agent refused a call (401/403), or undefined when it did not refuse. Consul explains a
 * 403 in its plain-text body ("... lacks permission 'service:write' on \"echo\"", "ACL not
 * found"); the client library keeps only "forbidden" as the message when that text is long.
 */
export function refusalReason(error: unknown, hasToken: boolean): string | undefined {
  const status = httpStatusOf(error);
  if (status !== 401 && status !== 403) return undefined;
  const body = (error as { response?: { body?: unknown } }).response?.body;
  const text = typeof body === 'string' ? body.trim().replace(/\s+/g, ' ').slice(0, 200) : '';
  const whose = hasToken ? 'the ACL token in CONSUL_HTTP_TOKEN' : 'the anonymous ACL token (CONSUL_HTTP_TOKEN is unset)';
  if (/ACL not found/i.test(text)) return 'CONSUL_HTTP_TOKEN is not a token this Consul knows (ACL not found)';
  const lacking = /lacks permission '([^']+)' on "([^"]*)"/.exec(text);
  if (lacking) return `${whose} lacks ${lacking[1]} on ${lacking[2]}`;
  return `${whose} was refused (${status}${text ? `: ${text}` : ''})`;
}
