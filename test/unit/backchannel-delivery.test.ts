import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { formPoster, isPublicAddress } from '../../src/protocols/oidc/backchannel-logout.js';

/** Back-channel logout notices go to URIs app owners choose: in production, never inside Keygate's networks. */
describe('back-channel logout delivery', () => {
  const received: string[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => { body += chunk; });
    request.on('end', () => {
      received.push(body);
      response.writeHead(200).end();
    });
  });
  let port = 0;
  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('tells public addresses from loopback, private, link-local and reserved ones', () => {
    for (const address of ['8.8.8.8', '2a00:1450:4001:80b::200e', '::ffff:8.8.8.8']) assert.equal(isPublicAddress(address), true, address);
    for (const address of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', 'fe80::1', 'fd00::1', '::ffff:127.0.0.1', 'not-an-ip']) {
      assert.equal(isPublicAddress(address), false, address);
    }
  });

  it('posts the form where private networks are allowed (development)', async () => {
    const status = await formPoster({ allowPrivateNetworks: true })(`http://127.0.0.1:${port}/bcl`, { logout_token: 'a.b.c' });
    assert.equal(status, 200);
    assert.equal(received.at(-1), 'logout_token=a.b.c');
  });

  it('refuses loopback addresses and names that resolve to them otherwise, sending nothing', async () => {
    const before = received.length;
    const post = formPoster({ allowPrivateNetworks: false });
    await assert.rejects(post(`http://127.0.0.1:${port}/bcl`, { logout_token: 'x' }), /not a public address/);
    await assert.rejects(post(`http://[::1]:${port}/bcl`, { logout_token: 'x' }), /not a public address/);
    await assert.rejects(post(`http://localhost:${port}/bcl`, { logout_token: 'x' }), /non-public address/);
    assert.equal(received.length, before);
  });
});
