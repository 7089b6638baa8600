/** Gets an access token through the gateway before the load, so signed-in routes can be loaded. */
import { request } from 'undici';

export async function accessToken(gateway: string, who: { email: string; password: string; signUp: boolean }): Promise<string> {
  if (who.signUp) {
    // A throwaway profile: the load only needs an account. 409 (it exists) is fine: sign in below.
    const created = await post(gateway, '/api/v1/auth/sign-up', {
      email: who.email,
      password: who.password,
      firstName: 'Load',
      lastName: 'Tester',
      birthday: '1990-01-01',
    });
    if (created.status !== 201 && created.status !== 409) throw new Error(`sign-up answered ${created.status}: ${created.text}`);
  }
  const signedIn = await post(gateway, '/api/v1/auth/sign-in', { email: who.email, password: who.password });
  if (signedIn.status !== 200) throw new Error(`sign-in answered ${signedIn.status}: ${signedIn.text}`);
  const token = (JSON.parse(signedIn.text) as { accessToken?: unknown }).accessToken;
  if (typeof token !== 'string') throw new Error('sign-in answered 200 without an accessToken');
  return token;
}

async function post(gateway: string, path: string, body: unknown): Promise<{ status: number; text: string }> {
  const answer = await request(`${gateway}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: answer.statusCode, text: await answer.body.text() };
}
