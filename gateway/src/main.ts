/**
 * The public entry of switchyard: one declarative route table (routes/), one generic proxy
 * (proxy.ts), and every upstream found in Consul through infra's ServiceClient (gateway.ts).
 */
import { startGateway } from './gateway.js';
import { gatewayRoutes } from './routes/index.js';

await startGateway(gatewayRoutes);
