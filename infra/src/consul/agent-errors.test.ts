import { describe, expect, it } from 'vitest';
import { httpStatusOf, refusalReason } from './agent-errors.js';

/** The shape of the consul client's error when the agent answered with `status`. */
function answered(status: number, body?: string): Error {
  return Object.assign(new Error(status === 403 ? 'forbidden' : 'failed'), { response: { statusCode: status, body } });
}

describe('refusalReason', () => {
  it("names the missing permission from Consul's explanation", () => {
    const body = `Permission denied: token with AccessorID '00000000-0000-0000-0000-000000000002' lacks permission 'service:write' on "echo"`;
    expect(refusalReason(answered(403, body), false)).toBe('the anonymous ACL token (CONSUL_HTTP_TOKEN is unset) lacks service:write on echo');
    expect(refusalReason(answered(403, body), true)).toBe('the ACL token in CONSUL_HTTP_TOKEN lacks service:write on echo');
  });

  it('says when the token is unknown to Consul', () => {
    expect(refusalReason(answered(403, 'ACL not found'), true)).toBe('CONSUL_HTTP_TOKEN is not a token this Consul knows (ACL not found)');
  });

  it('keeps an unexpected refusal on one line', () => {
    expect(refusalReason(answered(401, 'no\\nway'), true)).toBe('the ACL token in CONSUL_HTTP_TOKEN was refused (401: no\\nway)');
    expect(refusalReason(answered(403, 'multi\nline'), true)).not.toContain('\n');
  });

  it('is undefined for anything but a refusal', () => {
    expect(refusalReason(answered(500, 'boom'), true)).toBeUndefined();
    expect(refusalReason(answered(400, 'bad'), true)).toBeUndefined();
    expect(refusalReason(new Error('connect ECONNREFUSED'), true)).toBeUndefined();
    expect(httpStatusOf(new Error('connect ECONNREFUSED'))).toBeUndefined();
    expect(httpStatusOf(answered(404))).toBe(404);
  });
});
