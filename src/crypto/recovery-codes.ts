import { randomInt, timingSafeEqual } from 'node:crypto';
import { blindIndex } from './blind-index.js';

/** Lower case letters and digits without 0/o, 1/l/i, which are easily confused when copied by hand. */
const ALPHABET = '23456789abcdefghjkmnpqrstuvwxyz';
const CODE_COUNT = 10;
const GROUP_LENGTH = 5;
/** Separates recovery-code hashes from other HMACs made under the same server key. */
const PURPOSE = 'totp-recovery-code';

/** Ten distinct single-use codes shaped `xxxxx-xxxxx` (about 49 bits each). */
export function generateRecoveryCodes(): string[] {
  const codes = new Set<string>();
  while (codes.size < CODE_COUNT) codes.add(`${randomGroup()}-${randomGroup()}`);
  return [...codes];
}

/** The stored form of a code: HMAC-SHA256 of its normalised text, so the database never holds a usable code. */
export function hashRecoveryCode(code: string, key: Uint8Array): Buffer {
  return blindIndex(key, PURPOSE, normaliseRecoveryCode(code));
}

/**
 * Index of the stored hash the typed code matches, or -1. Every hash is compared in constant
 * time, without stopping at a match, so the time taken does not reveal which code was used.
 */
export function findRecoveryCode(input: string, hashes: readonly Uint8Array[], key: Uint8Array): number {
  const candidate = hashRecoveryCode(input, key);
  let found = -1;
  hashes.forEach((hash, index) => {
    const matches = hash.length === candidate.length && timingSafeEqual(hash, candidate);
    if (matches && found === -1) found = index;
  });
  return found;
}

/** Case-insensitive; dashes and white space (as typed or pasted) are ignored. */
function normaliseRecoveryCode(code: string): string {
  return code.toLowerCase().replace(/[\s-]+/g, '');
}

function randomGroup(): string {
  let group = '';
  for (let i = 0; i < GROUP_LENGTH; i++) group += ALPHABET.charAt(randomInt(ALPHABET.length));
  return group;
}
