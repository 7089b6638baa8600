export {
  ACCESS_TOKEN_ALGORITHM,
  ACCESS_TOKEN_AUDIENCE,
  ACCESS_TOKEN_ISSUER,
  TokenVerifier,
  type AuthenticatedUser,
  type JwksSource,
  type TokenVerifierOptions,
} from './token-verifier.js';
export { bearerChallenge, bearerToken, currentUser, requireUser } from './require-user.js';
