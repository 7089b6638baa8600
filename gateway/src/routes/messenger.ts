import type { GatewayRoute } from '../route-table.js';

/**
 * `/api/v1/messenger/<x>` → messenger `/<x>`: chats, messages and the live WebSocket (next issue).
 * Entries go here as in auth.ts and social.ts; a GET route with auth 'user' is also an upgrade
 * route, checked by the same token test before the WebSocket is relayed (upgrade.ts).
 */
export const messengerRoutes: GatewayRoute[] = [];
