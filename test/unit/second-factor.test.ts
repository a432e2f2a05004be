import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { findRecoveryCode, generateRecoveryCodes, hashRecoveryCode } from '../../src/crypto/recovery-codes.js';
import { enrolmentQrSvg, generateTotpSecret, totpCodeAt, totpUri, verifyTotp } from '../../src/crypto/totp.js';

// RFC 6238 appendix B: the ASCII secret "12345678901234567890", in base32.
const rfcSecret = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
const at = (seconds: number): Date => new Date(seconds * 1000);

describe('TOTP codes (RFC 6238, SHA-1, 6 digits, 30 s)', () => {
  it('matches the RFC 6238 SHA-1 test vectors, cut to 6 digits', () => {
    const vectors: [number, string][] = [
      [59, '287082'],
      [1111111109, '081804'],
      [1111111111, '050471'],
      [1234567890, '005924'],
      [2000000000, '279037'],
      [20000000000, '353130'],
    ];
    for (const [seconds, code] of vectors) assert.equal(totpCodeAt(rfcSecret, at(seconds)), code, `T=${seconds}`);
    assert.deepEqual(verifyTotp(rfcSecret, '287082', at(59), null), { ok: true, step: 1 });
  });

  it('generates 160-bit base32 secrets, each different', () => {
    const secret = generateTotpSecret();
    assert.match(secret, /^[A-Z2-7]{32}$/);
    assert.notEqual(generateTotpSecret(), secret);
    const now = new Date();
    assert.equal(verifyTotp(secret, totpCodeAt(secret, now), now, null).ok, true);
  });

  it('accepts the previous, current and next step, and nothing further', () => {
    const now = at(1_700_000_015);
    const step = Math.floor(1_700_000_015 / 30);
    const codeAtOffset = (steps: number): string => totpCodeAt(rfcSecret, at(1_700_000_015 + steps * 30));
    for (const offset of [-1, 0, 1]) {
      assert.deepEqual(verifyTotp(rfcSecret, codeAtOffset(offset), now, null), { ok: true, step: step + offset }, `offset ${offset}`);
    }
    for (const offset of [-2, 2]) {
      assert.deepEqual(verifyTotp(rfcSecret, codeAtOffset(offset), now, null), { ok: false }, `offset ${offset}`);
    }
  });

  it('takes the window from the injected clock at the exact edge of a step', () => {
    const stepStart = 1_700_000_010; // a multiple of 30
    assert.equal(verifyTotp(rfcSecret, totpCodeAt(rfcSecret, at(stepStart - 30)), at(stepStart), null).ok, true);
    assert.equal(verifyTotp(rfcSecret, totpCodeAt(rfcSecret, at(stepStart - 31)), at(stepStart), null).ok, false);
    assert.equal(verifyTotp(rfcSecret, totpCodeAt(rfcSecret, at(stepStart + 59)), at(stepStart), null).ok, true);
    assert.equal(verifyTotp(rfcSecret, totpCodeAt(rfcSecret, at(stepStart + 60)), at(stepStart), null).ok, false);
  });

  it('refuses a replayed step and accepts the next one', () => {
    const now = at(1_700_000_015);
    const first = verifyTotp(rfcSecret, totpCodeAt(rfcSecret, now), now, null);
    assert.equal(first.ok, true);
    const usedStep = first.ok ? first.step : -1;

    assert.deepEqual(verifyTotp(rfcSecret, totpCodeAt(rfcSecret, now), now, usedStep), { ok: false });
    const later = at(1_700_000_015 + 30);
    assert.deepEqual(verifyTotp(rfcSecret, totpCodeAt(rfcSecret, later), later, usedStep), { ok: true, step: usedStep + 1 });
  });

  it('refuses an older code once a newer step was used, even within the window', () => {
    const now = at(1_700_000_015);
    const step = Math.floor(1_700_000_015 / 30);
    assert.deepEqual(verifyTotp(rfcSecret, totpCodeAt(rfcSecret, now), now, step + 1), { ok: false });
    assert.deepEqual(verifyTotp(rfcSecret, totpCodeAt(rfcSecret, at(1_700_000_015 - 30)), now, step), { ok: false });
    assert.deepEqual(verifyTotp(rfcSecret, totpCodeAt(rfcSecret, at(1_700_000_015 + 30)), now, step - 5), { ok: true, step: step + 1 });
  });

  it('refuses (without throwing) when the last used step lies beyond the window', () => {
    const now = at(1_700_000_015);
    const step = Math.floor(1_700_000_015 / 30);
    assert.deepEqual(verifyTotp(rfcSecret, totpCodeAt(rfcSecret, now), now, step + 10), { ok: false });
  });

  it('ignores spaces but refuses anything that is not exactly six digits', () => {
    assert.equal(verifyTotp(rfcSecret, ' 287 082 ', at(59), null).ok, true);
    for (const input of ['', '28708', '2870820', '28708a', '287-082', '+87082', '２８７０８２', '287082\0', '94287082']) {
      assert.deepEqual(verifyTotp(rfcSecret, input, at(59), null), { ok: false }, JSON.stringify(input));
    }
  });
});

describe('otpauth URI', () => {
  it('states every parameter explicitly', () => {
    assert.equal(
      totpUri({ secret: rfcSecret, account: 'jana@example.cz', issuer: 'Keygate' }),
      `otpauth://totp/Keygate:jana%40example.cz?secret=${rfcSecret}&issuer=Keygate&algorithm=SHA1&digits=6&period=30`,
    );
  });

  it('encodes an account with @ and spaces and an issuer with a colon', () => {
    const uri = totpUri({ secret: rfcSecret, account: 'Jana Nováková@example.cz', issuer: 'Acme: Sign in' });
    assert.equal(
      uri,
      `otpauth://totp/Acme%3A%20Sign%20in:Jana%20Nov%C3%A1kov%C3%A1%40example.cz?secret=${rfcSecret}&issuer=Acme%3A%20Sign%20in&algorithm=SHA1&digits=6&period=30`,
    );
    const parsed = new URL(uri);
    const label = parsed.pathname.slice(1);
    assert.equal(label.split(':').length, 2, 'exactly one unencoded separator');
    const [issuer = '', account = ''] = label.split(':').map(decodeURIComponent);
    assert.equal(issuer, 'Acme: Sign in');
    assert.equal(account, 'Jana Nováková@example.cz');
    assert.equal(parsed.searchParams.get('issuer'), 'Acme: Sign in');
    assert.equal(parsed.searchParams.get('secret'), rfcSecret);
  });
});

describe('enrolment QR code', () => {
  it('is an SVG with a title, without inline styles or scripts', async () => {
    const svg = await enrolmentQrSvg(totpUri({ secret: generateTotpSecret(), account: 'jana@example.cz', issuer: 'Keygate' }));
    assert.match(svg, /^<svg\b[^>]*\brole="img"[^>]*><title>[^<]+<\/title>/);
    assert.match(svg, /<\/svg>\s*$/);
    assert.doesNotMatch(svg, /style\s*=/i);
    assert.doesNotMatch(svg, /<script/i);
    assert.doesNotMatch(svg, /<style/i);
  });

  it('escapes the title', async () => {
    const svg = await enrolmentQrSvg('otpauth://totp/X:y?secret=ABC', 'Scan <me> & "go"');
    assert.match(svg, /<title>Scan &#60;me&#62; &#38; &#34;go&#34;<\/title>/);
  });
});

describe('recovery codes', () => {
  const key = randomBytes(32);

  it('are ten distinct codes shaped xxxxx-xxxxx from an unambiguous alphabet', () => {
    const codes = generateRecoveryCodes();
    assert.equal(codes.length, 10);
    assert.equal(new Set(codes).size, 10);
    for (const code of codes) {
      assert.match(code, /^[2-9a-hjkmnp-z]{5}-[2-9a-hjkmnp-z]{5}$/);
      assert.doesNotMatch(code, /[01oOlIi]/);
    }
    assert.notDeepEqual(generateRecoveryCodes(), codes);
  });

  it('hash to the same value regardless of case, dashes and spaces', () => {
    assert.deepEqual(hashRecoveryCode('ABCDE-FGHJK', key), hashRecoveryCode('abcde fghjk', key));
    assert.deepEqual(hashRecoveryCode('abcdefghjk', key), hashRecoveryCode(' AbCdE-fGhJk\n', key));
    assert.notDeepEqual(hashRecoveryCode('abcde-fghjk', key), hashRecoveryCode('abcde-fghjm', key));
    assert.notDeepEqual(hashRecoveryCode('abcde-fghjk', key), hashRecoveryCode('abcde-fghjk', randomBytes(32)));
    assert.equal(hashRecoveryCode('abcde-fghjk', key).length, 32);
    assert.equal(hashRecoveryCode('abcde-fghjk', key).includes(Buffer.from('abcde')), false);
  });

  it('are found by their index among the stored hashes, and an unknown code gives -1', () => {
    const codes = generateRecoveryCodes();
    const hashes = codes.map((code) => hashRecoveryCode(code, key));
    codes.forEach((code, index) => assert.equal(findRecoveryCode(code, hashes, key), index));
    assert.equal(findRecoveryCode(codes[3]!.toUpperCase().replace('-', ' '), hashes, key), 3);
    assert.equal(findRecoveryCode('zzzzz-zzzzz', hashes, key), -1);
    assert.equal(findRecoveryCode('', hashes, key), -1);
    assert.equal(findRecoveryCode(codes[0]!, [], key), -1);
    assert.equal(findRecoveryCode(codes[0]!, hashes, randomBytes(32)), -1);
  });

  it('ignore stored hashes of another length instead of throwing', () => {
    const code = generateRecoveryCodes()[0]!;
    assert.equal(findRecoveryCode(code, [new Uint8Array(16), hashRecoveryCode(code, key)], key), 1);
  });
});
