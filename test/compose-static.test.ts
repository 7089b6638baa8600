/**
 * docker-compose.yml and the Dockerfile, checked without a Docker engine (test/zz-compose.test.ts
 * runs them for real where an engine can be had). The compose file is resolved by Compose itself
 * (`docker compose config`, the CLI `make setup` builds when none is installed), so anchors,
 * merges and variable defaults are read as Compose reads them.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './support/processes.js';

const COMPOSE_FILE = path.join(REPO_ROOT, 'docker-compose.yml');
const CACHE = path.join(process.env.XDG_CACHE_HOME ?? path.join(homedir(), '.cache'), 'switchyard');
const INFRA = ['consul', 'jaeger', 'mysql', 'redis'];
/** What `make app` starts; the published ones are the only services with a host port. */
const PUBLISHED: Record<string, number> = { gateway: 8080, webui: 8000, consul: 8500, jaeger: 16686 };
const SCALABLE = ['auth', 'social', 'messenger', 'rng', 'hasher', 'worker'];

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[];
  container_name?: string;
  ports?: Array<{ target: number; published?: string; host_ip?: string }>;
  healthcheck?: { test?: string[] };
  depends_on?: Record<string, { condition: string }>;
  environment?: Record<string, string>;
  init?: boolean;
  deploy?: { replicas?: number };
}

/** The Compose v2 CLI: the installed plugin, a v2 docker-compose, or the one make setup caches. */
function composeCli(): string[] | undefined {
  const candidates: Array<{ cmd: string[]; env?: Record<string, string> }> = [
    { cmd: ['docker', 'compose'] },
    { cmd: ['docker-compose'] },
    { cmd: [path.join(CACHE, 'bin', 'docker-compose')] },
  ];
  for (const { cmd } of candidates) {
    const probe = spawnSync(cmd[0]!, [...cmd.slice(1), 'version', '--short'], { encoding: 'utf8' });
    if (probe.status === 0 && /^v?[2-9]\./.test(probe.stdout.trim())) return cmd;
  }
  return undefined;
}

/** The files as Compose resolves them with every variable at its default (none set). */
function resolvedConfig(cli: string[], files = [COMPOSE_FILE]): { services: Record<string, ComposeService> } {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/_IMAGE$|_PORT$|^PUBLISH_ADDRESS$|^COMPOSE_|^BUILD_NETWORK$|^MYSQL_ROOT_PASSWORD$/.test(name)),
  );
  const out = execFileSync(cli[0]!, [...cli.slice(1), ...files.flatMap((file) => ['-f', file]), '--project-directory', REPO_ROOT, '--env-file', '/dev/null', 'config', '--format', 'json'], {
    cwd: REPO_ROOT,
    env,
    encoding: 'utf8',
  });
  return JSON.parse(out);
}

const cli = composeCli();
if (!cli) console.warn('test/compose-static.test.ts: no Docker Compose v2 CLI (make setup builds one): the resolved-config checks are skipped');

describe('docker-compose.yml (static)', () => {
  const text = readFileSync(COMPOSE_FILE, 'utf8');

  it('names every image through a variable with a pinned default (no latest, no bare tag)', () => {
    const images = [...text.matchAll(/^\s*image:\s*(.+)$/gm)].map((m) => m[1]!.trim());
    expect(images.length).toBeGreaterThan(0);
    for (const image of images) {
      const match = /^\$\{([A-Z_]+_IMAGE):-([^}]+)\}$/.exec(image);
      expect(match, `image ${image} is not \${NAME_IMAGE:-pinned/default:tag}`).not.toBeNull();
      const fallback = match![2]!;
      expect(fallback, `${image}: its default has no tag`).toMatch(/:[^/]+$/);
      expect(fallback, `${image}: latest is not a pin`).not.toMatch(/:latest$/);
    }
    // The pins: Consul as the tests run it, Jaeger v2 matching the 1.76.0 binary, MySQL 8, Redis 7.
    expect(text).toContain('${CONSUL_IMAGE:-hashicorp/consul:1.14.11}');
    expect(text).toContain('${JAEGER_IMAGE:-jaegertracing/jaeger:2.13.0}');
    expect(text).toMatch(/\$\{MYSQL_IMAGE:-mysql:8\.\d+\.\d+\}/);
    expect(text).toMatch(/\$\{REDIS_IMAGE:-redis:7\.\d+\.\d+\}/);
    expect(text).not.toMatch(/^\s*container_name:/m);
  });

  it.skipIf(!cli)('resolves with Compose: healthchecks, healthy dependencies, ports only where published', () => {
    const { services } = resolvedConfig(cli!);
    const makefile = readFileSync(path.join(REPO_ROOT, 'Makefile'), 'utf8');
    // Every service `make dev` / `make instance` knows is in the stack.
    const devServices = /^SERVICES := (.+)$/m.exec(makefile)![1]!.trim().split(/\s+/);
    const app = Object.keys(services).filter((name) => !INFRA.includes(name) && name !== 'migrate');
    expect(app.sort()).toEqual([...devServices].sort());
    expect(services.messenger!.deploy?.replicas).toBe(2);
    expect(services.rng!.deploy?.replicas).toBe(2);

    for (const [name, service] of Object.entries(services)) {
      expect(service.container_name, `${name} has a container_name`).toBeUndefined();
      if (name !== 'migrate') expect(service.healthcheck?.test?.length, `${name} has no healthcheck`).toBeGreaterThan(0);
      const targets = (service.ports ?? []).map((p) => p.target);
      expect(targets, `${name}'s published ports`).toEqual(PUBLISHED[name] ? [PUBLISHED[name]] : []);
      for (const port of service.ports ?? []) {
        expect(port.published, `${name} publishes its default port`).toBe(String(PUBLISHED[name]));
        expect(port.host_ip, `${name} is published on loopback by default`).toBe('127.0.0.1');
      }
    }
    for (const name of app) {
      const service = services[name]!;
      expect(service.image).toBe(services.migrate!.image);
      expect(service.init, `${name}: tini as PID 1`).toBe(true);
      expect(service.command?.[0]).toBe('node');
      expect(service.command?.[1], `${name} runs compiled JavaScript`).toMatch(/^[a-z]+\/dist\/.+\.js$/);
      for (const dependency of INFRA) expect(service.depends_on?.[dependency]?.condition, `${name} → ${dependency}`).toBe('service_healthy');
      expect(service.depends_on?.migrate?.condition).toBe('service_completed_successfully');
      expect(service.environment?.ADVERTISE_ADDR).toBe('auto');
      expect(service.environment?.CONSUL_HTTP_ADDR).toBe('http://consul:8500');
    }
    for (const name of SCALABLE) expect(services[name]!.ports ?? []).toEqual([]);
    expect(services.gateway!.environment?.ADMIN_HOST).toBe('0.0.0.0');
    expect(services.auth!.environment?.AUTH_KEY_ENCRYPTION_KEY).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(services.migrate!.command).toEqual(['node', 'scripts/migrate.js']);
    expect(services.migrate!.build).toBeDefined();
  });

  it.skipIf(!cli)('consul-cluster: 3 servers, 2 client agents, every service registering through a client agent', () => {
    const { services } = resolvedConfig(cli!, [COMPOSE_FILE, path.join(REPO_ROOT, 'docker-compose.consul-cluster.yml')]);
    const servers = ['consul', 'consul-server-2', 'consul-server-3'];
    const clients = ['consul-client-1', 'consul-client-2'];
    for (const name of servers) expect(services[name]!.command, name).toEqual(expect.arrayContaining(['-server', '-bootstrap-expect=3']));
    for (const name of clients) expect(services[name]!.command, name).not.toContain('-server');
    for (const name of [...servers, ...clients]) {
      expect(services[name]!.healthcheck?.test?.length, `${name} has no healthcheck`).toBeGreaterThan(0);
      expect(services[name]!.ports ?? [], `${name}'s ports`).toEqual(name === 'consul' ? [expect.objectContaining({ target: 8500 })] : []);
    }
    for (const name of ['gateway', ...SCALABLE, 'webui']) {
      const agent = /^http:\/\/(consul-client-\d):8500$/.exec(services[name]!.environment?.CONSUL_HTTP_ADDR ?? '')?.[1];
      expect(agent, `${name} registers through a client agent`).toBeDefined();
      expect(services[name]!.depends_on?.[agent!]?.condition).toBe('service_healthy');
    }
  });

  it('documents the published ports in the README', () => {
    const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
    for (const url of ['127.0.0.1:8500/ui', ':8080', ':8000', ':16686']) expect(readme).toContain(url);
  });
});

describe('Dockerfile (static)', () => {
  const dockerfile = readFileSync(path.join(REPO_ROOT, 'Dockerfile'), 'utf8');
  const stages = dockerfile.split(/^FROM /m).slice(1);
  const runtime = stages.at(-1)!;

  it('is multi-stage from a pinned Node 24 image, and runs compiled JavaScript as a non-root user', () => {
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:24-bookworm-slim$/m);
    expect(stages.length).toBeGreaterThanOrEqual(3);
    expect(dockerfile).toContain('tsconfig.build.json');
    expect(runtime).toMatch(/^USER node$/m);
    expect(runtime).not.toMatch(/tsx|typescript/);
    expect(runtime).toMatch(/npm ci --omit=dev|deps-prod/);
    expect(existsSync(path.join(REPO_ROOT, '.dockerignore'))).toBe(true);
    expect(readFileSync(path.join(REPO_ROOT, '.dockerignore'), 'utf8')).toMatch(/^\*\*\/node_modules$/m);
  });
});
