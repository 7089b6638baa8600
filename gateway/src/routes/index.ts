import type { GatewayRoute } from '../route-table.js';
import { authRoutes } from './auth.js';
import { messengerRoutes } from './messenger.js';
import { minerRoutes } from './miner.js';
import { socialRoutes } from './social.js';

/**
 * Every public route: which service answers it, who may call it, what it accepts and answers.
 * Adding a service behind the gateway is one file of entries here; discovery, balancing, retries,
 * authentication, validation, rate limits and the OpenAPI document come from the generic edge.
 */
export const gatewayRoutes: readonly GatewayRoute[] = [...authRoutes, ...socialRoutes, ...messengerRoutes, ...minerRoutes];

