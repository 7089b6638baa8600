/**
 * The request and answer schemas of auth and social, as the gateway's route files use them: the
 * services' own (`@switchyard/auth/api`, `@switchyard/social/api`), so the edge, the services and
 * the OpenAPI document validate with one set of schemas.
 *
 * Answer shapes (documentation only: the gateway never validates an answer) are `.meta({ id })`
 * copies, so the document names them once under components/schemas; the services' objects stay
 * as they are. A page is documented as a list of those named items.
 */
import * as auth from '@switchyard/auth/api';
import * as social from '@switchyard/social/api';
import type { z } from '@switchyard/infra';
import { pageOf } from './common.js';

// ---- requests ---------------------------------------------------------------------------------
export { refreshBody, signInBody, signOutBody, signUpBody } from '@switchyard/auth/api';
export {
  createPostBody,
  friendRequestBody,
  liveFeedQuery,
  otherUserParams,
  pageQuery,
  postIdParams,
  userIdParams,
  userSearchQuery,
} from '@switchyard/social/api';

// ---- answers ----------------------------------------------------------------------------------
const named = <Schema extends z.ZodType>(id: string, schema: Schema): Schema => schema.meta({ id });

export const publicProfile = named('PublicProfile', auth.publicProfile);
export const ownProfile = named('OwnProfile', auth.ownProfile);
export const tokenPair = named('TokenPair', auth.tokenPair);
export const post = named('Post', social.post);
export const friendship = named('Friendship', social.friendshipAnswer);
export const profilePage = pageOf(publicProfile);
export const friendPage = pageOf(named('Friend', social.friend));
export const incomingRequestPage = pageOf(named('IncomingFriendRequest', social.incomingRequest));
export const postPage = pageOf(post);
