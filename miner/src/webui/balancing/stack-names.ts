/** The suffix IsolatedStack gives a test's services (test/support/isolated-stack.ts): `-t-<pid>-<time>-<n>`. */
const ISOLATED_STACK_SUFFIX = /-t-\d+-[0-9a-z]+-\d+$/;

/**
 * Whether a Consul service name belongs to this webui's stack: its names end with our
 * SERVICE_NAME_SUFFIX. With no suffix (`make dev`), a test's private stack on the same Consul is
 * not ours either. Consul's own entry is no service of ours.
 */
export function inOurStack(name: string, suffix: string): boolean {
  if (name === 'consul') return false;
  if (suffix !== '') return name.endsWith(suffix) && name.length > suffix.length;
  return !ISOLATED_STACK_SUFFIX.test(name);
}
