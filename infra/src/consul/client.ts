import Consul from 'consul';

export type ConsulClient = InstanceType<typeof Consul>;

/** A Consul client for the agent at CONSUL_HTTP_ADDR (`http://host:port`). */
export function createConsulClient(consulHttpAddr: string): ConsulClient {
  const url = new URL(consulHttpAddr);
  return new Consul({
    host: url.hostname,
    port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
    secure: url.protocol === 'https:',
  });
}
