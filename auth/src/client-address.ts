import type { IncomingMessage } from 'node:http';
import { z } from '@switchyard/infra';
import proxyAddr from 'proxy-addr';

/**
 * TRUSTED_PROXIES for auth: the peers whose X-Forwarded-For names the client (comma-separated
 * addresses, CIDR ranges, or proxy-addr's names loopback, linklocal, uniquelocal). auth sits
 * behind the gateway on the internal network, so the default trusts loopback and private
 * addresses; anything else that reaches auth is taken for the client itself. `none` trusts nobody
 * (an empty value means "unset", hence the default). A malformed entry is a config error naming it.
 */
export const trustedProxiesSetting = z
  .string()
  .default('loopback,uniquelocal')
  .transform((raw, ctx) => {
    const entries = raw.trim() === 'none' ? [] : raw.split(',').map((entry) => entry.trim()).filter(Boolean);
    try {
      return proxyAddr.compile(entries);
    } catch (error) {
      ctx.issues.push({ code: 'custom', input: raw, message: (error as Error).message });
      return z.NEVER;
    }
  });

/**
 * The address login throttling counts a request under: X-Forwarded-For walked back from the
 * socket peer through trusted proxies only (the gateway appends the address it saw), so a client
 * cannot pick its own address by writing the header.
 */
export function clientAddress(req: IncomingMessage, trusted: ReturnType<typeof proxyAddr.compile>): string {
  return proxyAddr(req, trusted);
}
