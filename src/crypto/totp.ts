import { generateSecret, generateSync, verifySync } from 'otplib';
import QRCode from 'qrcode';

/** RFC 6238 parameters every authenticator app understands; the URI states them explicitly. */
const ALGORITHM = 'sha1';
const DIGITS = 6;
const PERIOD_SECONDS = 30;
const SECRET_BYTES = 20;
/** Codes from one step before or after the current one are accepted, for clock drift and typing time. */
const TOLERATED_STEPS = 1;

export type TotpVerification = { ok: true; step: number } | { ok: false };

/** A fresh 160-bit secret, base32 without padding (as the otpauth URI expects). */
export function generateTotpSecret(): string {
  return generateSecret({ length: SECRET_BYTES });
}

/**
 * The otpauth:// key URI for enrolment. Issuer and account are percent-encoded separately so
 * that a colon inside either cannot be mistaken for the `Issuer:account` separator.
 */
export function totpUri({ secret, account, issuer }: { secret: string; account: string; issuer: string }): string {
  const label = `${encodeURIComponent(issuer)}:${encodeURIComponent(account)}`;
  const query = [
    `secret=${encodeURIComponent(secret)}`,
    `issuer=${encodeURIComponent(issuer)}`,
    `algorithm=${ALGORITHM.toUpperCase()}`,
    `digits=${DIGITS}`,
    `period=${PERIOD_SECONDS}`,
  ].join('&');
  return `otpauth://totp/${label}?${query}`;
}

export function totpCodeAt(secret: string, at: Date): string {
  return generateSync({ secret, epoch: epochSeconds(at), algorithm: ALGORITHM, digits: DIGITS, period: PERIOD_SECONDS });
}

/**
 * Checks a typed code against the steps around `now`. A code whose step is not after
 * `lastUsedStep` is refused, so a code seen once (by the user or by someone looking over
 * their shoulder) cannot be used again: the caller stores the returned step.
 */
export function verifyTotp(secret: string, code: string, now: Date, lastUsedStep: number | null): TotpVerification {
  const token = code.replace(/\s+/g, '');
  if (!/^[0-9]{6}$/.test(token)) return { ok: false };

  const epoch = epochSeconds(now);
  const currentStep = Math.floor(epoch / PERIOD_SECONDS);
  const latestAcceptedStep = currentStep + TOLERATED_STEPS;
  // otplib throws when afterTimeStep lies beyond the window; then no step in it is new enough anyway.
  if (lastUsedStep !== null && lastUsedStep >= latestAcceptedStep) return { ok: false };

  // The library compares each candidate with a constant-time equality.
  const result = verifySync({
    secret,
    token,
    epoch,
    algorithm: ALGORITHM,
    digits: DIGITS,
    period: PERIOD_SECONDS,
    epochTolerance: TOLERATED_STEPS * PERIOD_SECONDS,
    ...(lastUsedStep !== null && lastUsedStep >= 0 ? { afterTimeStep: lastUsedStep } : {}),
  });
  // otplib's functional API types its result for HOTP as well, which has no timeStep: use the delta.
  return result.valid ? { ok: true, step: currentStep + result.delta } : { ok: false };
}

/**
 * The enrolment QR code as an SVG document for inlining in a page. The pages' CSP forbids
 * inline styles, so any `style` attribute is removed (qrcode 1.5 emits none: this guards upgrades).
 */
export async function enrolmentQrSvg(uri: string, title = 'QR code to add this account to your authenticator app'): Promise<string> {
  const svg = await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 4 });
  const withoutStyles = svg.replace(/\sstyle\s*=\s*("[^"]*"|'[^']*')/gi, '');
  if (/<script\b/i.test(withoutStyles)) throw new Error('QR code renderer produced a script element');
  return withoutStyles.replace(/<svg\b([^>]*)>/, `<svg$1 role="img"><title>${escapeXml(title)}</title>`);
}

function epochSeconds(at: Date): number {
  return Math.floor(at.getTime() / 1000);
}

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}
