import { setTimeout as sleep } from 'node:timers/promises';
import type { Accounts } from './accounts.js';
import { invalidCredentials } from './errors.js';
import type { Sessions, TokenPair } from './sessions.js';
import type { LoginThrottle } from './throttle.js';

/** Sign-in: throttle, check the credentials, start a session family. */
export class SignIn {
  constructor(
    private readonly throttle: LoginThrottle,
    private readonly accounts: Accounts,
    private readonly sessions: Sessions,
    private readonly wait: (ms: number) => Promise<unknown> = sleep,
  ) {}

  async signIn(email: string, password: string, clientAddress: string | undefined): Promise<TokenPair> {
    const admission = await this.throttle.admit(email, clientAddress);
    if (admission.delayMs > 0) await this.wait(admission.delayMs);
    const userId = await this.accounts.authenticate(email, password);
    if (!userId) throw invalidCredentials();
    await this.throttle.succeeded(admission);
    return this.sessions.start(userId);
  }
}
