import { currentUser, HttpError, requireUser, type NextFunction, type Request, type Response, type Router, type TokenVerifier } from '@switchyard/infra';
import { refreshBody, signInBody, signOutBody, signUpBody, userBatchQuery, userIdParams, userSearchQuery } from './api.js';
import { clientAddress } from './client-address.js';
import type { Accounts } from './domain/accounts.js';
import { AuthError, TooManyAttempts, type AuthErrorCode } from './domain/errors.js';
import type { Sessions } from './domain/sessions.js';
import type { SignIn } from './domain/sign-in.js';
import type { SigningKeys } from './domain/signing-keys.js';

export interface AuthRouteDeps {
  accounts: Accounts;
  sessions: Sessions;
  signIn: SignIn;
  keys: SigningKeys;
  verifier: TokenVerifier;
  trustedProxies: Parameters<typeof clientAddress>[1];
}

const STATUS: Record<AuthErrorCode, number> = {
  email_taken: 409,
  invalid_credentials: 401,
  invalid_refresh_token: 401,
  too_many_attempts: 429,
  user_not_found: 404,
  invalid_cursor: 400,
};

/**
 * auth's HTTP shapes: parse and validate (the api.ts schemas; a ZodError becomes a 400 naming
 * the field), call the domain, answer. Every route but sign-up, sign-in, refresh and the JWKS
 * verifies the caller's bearer token itself: a request that reaches this instance directly is
 * authenticated like one through the gateway.
 */
export function authRoutes(deps: AuthRouteDeps): (router: Router) => void {
  const { accounts, sessions, keys } = deps;
  const user = requireUser(deps.verifier);

  return (router) => {
    router.post('/sign-up', async (req, res) => {
      res.status(201).json(await accounts.signUp(signUpBody.parse(req.body)));
    });

    router.post('/sign-in', async (req, res) => {
      const { email, password } = signInBody.parse(req.body);
      const tokens = await deps.signIn.signIn(email, password, clientAddress(req, deps.trustedProxies));
      // RFC 6749 §5.1: answers carrying tokens are never cached.
      res.setHeader('cache-control', 'no-store').json(tokens);
    });

    router.post('/token/refresh', async (req, res) => {
      const tokens = await sessions.refresh(refreshBody.parse(req.body).refreshToken);
      res.setHeader('cache-control', 'no-store').json(tokens);
    });

    router.post('/sign-out', user, async (req, res) => {
      await sessions.signOut(currentUser(res).id, signOutBody.parse(req.body).refreshToken);
      res.status(204).end();
    });

    router.get('/me', user, async (_req, res) => {
      res.setHeader('cache-control', 'no-store').json(await accounts.own(currentUser(res).id));
    });

    router.get('/.well-known/jwks.json', async (_req, res) => {
      // Short: verifiers refetch on an unknown kid anyway, and new keys are published ahead of use.
      res.setHeader('cache-control', 'public, max-age=60').json(await keys.publicJwks());
    });

    // Internal profile reads (social calls them with the caller's token); never the email.
    router.get('/users/:id', user, async (req, res) => {
      res.json(await accounts.profile(userIdParams.parse(req.params).id));
    });

    router.get('/users', user, async (req, res) => {
      if (req.query.ids !== undefined) {
        res.json({ items: await accounts.profiles(userBatchQuery.parse(req.query).ids) });
        return;
      }
      res.json(await accounts.search(userSearchQuery.parse(req.query)));
    });

    router.use(domainErrors);
  };
}

/**
 * Domain errors to HTTP answers; everything else goes on to the platform's handler (which answers
 * a store outage 503 dependency_unavailable, and anything unexpected 500).
 */
function domainErrors(error: unknown, _req: Request, res: Response, next: NextFunction): void {
  if (error instanceof TooManyAttempts) {
    res.setHeader('retry-after', String(Math.max(1, Math.ceil(error.retryAfterMs / 1000))));
  }
  if (error instanceof AuthError) {
    next(new HttpError(STATUS[error.code], error.code, error.message));
    return;
  }
  next(error);
}
