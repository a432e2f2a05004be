import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestKeygate, type TestKeygate } from '../support/test-keygate.js';

describe('the first visit', () => {
  let keygate: TestKeygate;

  before(async () => {
    keygate = await startTestKeygate();
  });
  after(() => keygate.close());

  it('says what Keygate is and leads to the account centre, sign-up, the dashboard and the API document, each of which answers', async () => {
    const home = await keygate.http.inject({ method: 'GET', url: '/' });
    assert.equal(home.statusCode, 200);
    const links = [...home.body.matchAll(/<a href="([^"]+)">([^<]+)<\/a>/g)].map(([, href, text]) => ({ href: href!, text: text! }));
    assert.deepEqual(links.map((l) => l.href), ['/account', '/account/sign-up', '/dashboard', '/openapi.json']);
    assert.ok(links.every((l) => !/click here|here$/i.test(l.text)), 'each link says where it leads');
    const document = await keygate.http.inject({ method: 'GET', url: '/openapi.json' });
    assert.equal(JSON.parse(document.body).openapi, '3.1.0');
    for (const { href } of links.filter((l) => l.href !== '/openapi.json')) {
      let landed = await keygate.http.inject({ method: 'GET', url: href });
      for (let hops = 0; hops < 3 && landed.statusCode >= 300 && landed.statusCode < 400; hops++) {
        landed = await keygate.http.inject({ method: 'GET', url: landed.headers.location as string });
      }
      assert.equal(landed.statusCode, 200, href);
      assert.match(landed.body, /<form method="post"/, `${href} leads to a form to sign in or sign up`);
    }
  });
});
