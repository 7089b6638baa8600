import {
  HttpError,
  currentUser,
  requireUser,
  type NextFunction,
  type Request,
  type Response,
  type Router,
  type TokenVerifier,
} from '@switchyard/infra';
import {
  createPostBody,
  friendRequestBody,
  otherUserParams,
  pageQuery,
  postIdParams,
  userIdParams,
  userSearchQuery,
  type FriendshipAnswer,
} from './api.js';
import { SocialError, type SocialErrorCode } from './domain/errors.js';
import type { Feed } from './domain/feed.js';
import type { FriendAction } from './domain/friendship-rules.js';
import type { Friendships } from './domain/friendships.js';
import type { Posts } from './domain/posts.js';
import { requireProfile, type Caller, type ProfileDirectory } from './domain/profiles.js';

export interface SocialRouteDeps {
  verifier: TokenVerifier;
  profiles: ProfileDirectory;
  friendships: Friendships;
  posts: Posts;
  feed: Feed;
}

const STATUS: Record<SocialErrorCode, number> = {
  cannot_befriend_self: 400,
  invalid_cursor: 400,
  user_not_found: 404,
  request_not_found: 404,
  not_friends: 404,
  post_not_found: 404,
  already_friends: 409,
  request_pending: 409,
  conflict: 409,
};

/**
 * The caller: the user of the verified token, and the token as sent, forwarded to auth for
 * profile reads. Which user a route acts for comes only from here, never from the request's
 * parameters: nobody can read another user's feed or answer another user's requests.
 */
function callerOf(req: Request, res: Response): Caller {
  return { id: currentUser(res).id, credentials: req.headers.authorization! };
}

/**
 * auth issues lower-case uuids and compares them byte for byte: an upper-case spelling of an id
 * (valid to the schema) is taken as the same user.
 */
const userId = (id: string) => id.toLowerCase();

/**
 * social's HTTP shapes: validate (the api.ts schemas; a ZodError becomes a 400 naming the field),
 * call the domain, answer. Every route verifies the caller's token itself: a request that reaches
 * this instance directly is authenticated like one through the gateway.
 */
export function socialRoutes(deps: SocialRouteDeps): (router: Router) => void {
  const { friendships, posts, feed, profiles } = deps;
  const user = requireUser(deps.verifier);
  // Answers about one person are theirs alone: no shared cache may keep them.
  const personal = (res: Response) => res.setHeader('cache-control', 'private, no-store');

  const answerRequest = (action: Extract<FriendAction, 'accept' | 'decline'>) => async (req: Request, res: Response) => {
    const other = userId(otherUserParams.parse(req.params).userId);
    const outcome = await friendships.act(action, callerOf(req, res), other);
    res.json({ userId: other, status: outcome === 'declined' ? 'declined' : 'accepted' } satisfies FriendshipAnswer);
  };

  return (router) => {
    // ---- profiles (auth's, relayed) ----
    router.get('/users/:id', user, async (req, res) => {
      const { id } = userIdParams.parse(req.params);
      personal(res).json(await requireProfile(profiles, userId(id), callerOf(req, res)));
    });

    router.get('/users', user, async (req, res) => {
      personal(res).json(await profiles.search(userSearchQuery.parse(req.query), callerOf(req, res)));
    });

    // ---- friendships ----
    router.post('/friends/requests', user, async (req, res) => {
      const other = userId(friendRequestBody.parse(req.body).userId);
      const outcome = await friendships.act('request', callerOf(req, res), other);
      res.status(201).json({ userId: other, status: outcome === 'accepted' ? 'accepted' : 'pending' } satisfies FriendshipAnswer);
    });

    router.post('/friends/requests/:userId/accept', user, answerRequest('accept'));
    router.post('/friends/requests/:userId/decline', user, answerRequest('decline'));

    router.delete('/friends/:userId', user, async (req, res) => {
      await friendships.act('remove', callerOf(req, res), userId(otherUserParams.parse(req.params).userId));
      res.status(204).end();
    });

    router.get('/friends', user, async (req, res) => {
      const { cursor, limit } = pageQuery.parse(req.query);
      personal(res).json(await friendships.friends(callerOf(req, res), cursor, limit));
    });

    router.get('/friends/requests', user, async (req, res) => {
      const { cursor, limit } = pageQuery.parse(req.query);
      personal(res).json(await friendships.incoming(callerOf(req, res), cursor, limit));
    });

    // ---- posts and the feed ----
    router.post('/posts', user, async (req, res) => {
      const { text } = createPostBody.parse(req.body);
      res.status(201).json(await posts.create(currentUser(res).id, text));
    });

    router.delete('/posts/:id', user, async (req, res) => {
      await posts.delete(currentUser(res).id, postIdParams.parse(req.params).id);
      res.status(204).end();
    });

    router.get('/feed', user, async (req, res) => {
      const { cursor, limit } = pageQuery.parse(req.query);
      personal(res).json(await feed.page(currentUser(res).id, cursor, limit));
    });

    router.use(domainErrors);
  };
}

/** Domain errors to HTTP answers; everything else goes on to the platform's handler (zod → 400, stores → 503). */
function domainErrors(error: unknown, _req: Request, _res: Response, next: NextFunction): void {
  if (error instanceof SocialError) {
    next(new HttpError(STATUS[error.code], error.code, error.message));
    return;
  }
  next(error);
}
