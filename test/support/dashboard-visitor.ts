import assert from 'node:assert/strict';
import { GatewayVisitor, SIGN_UP_JANA } from './gateway-visitor.js';
import type { TestKeygate } from './test-keygate.js';

export const DASHBOARD_ORIGIN = 'https://dash.example.org';
export const DASHBOARD_RETURN = 'https://dash.example.org/back/';

/** A developer who just created their account through the dashboard's sign-up, signed in. */
export async function developer(keygate: TestKeygate, email: string): Promise<GatewayVisitor> {
  const visitor = new GatewayVisitor(keygate.http);
  await visitor.get('/dashboard/sign-up');
  const signedUp = await visitor.signUp('/dashboard', { ...SIGN_UP_JANA, email }, keygate.outbox);
  assert.equal(signedUp.status, 303);
  assert.equal(signedUp.location, '/dashboard');
  return visitor;
}

/** Creates an app with the dashboard's form; its App ID and Secret Key as the credentials page shows them. */
export async function createApp(visitor: GatewayVisitor, name: string) {
  const created = await visitor.post('/dashboard/apps', { name, origins: DASHBOARD_ORIGIN, returnUrls: DASHBOARD_RETURN });
  assert.equal(created.status, 201);
  const appId = /id="app-id"[^>]*>([0-9a-f-]{36})</.exec(created.html)![1]!;
  const secretKey = /id="secret-key"[^>]*>([A-Za-z0-9+/=]+)</.exec(created.html)![1]!;
  return { appId, secretKey, page: created };
}
