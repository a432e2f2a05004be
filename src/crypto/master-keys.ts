import { createHash, hkdfSync, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { KeySource } from '../config/config.js';

/** A 256-bit key with a stable id, so stored ciphertexts can name the key that made them. */
export interface IdentifiedKey {
  readonly id: string;
  readonly key: Buffer;
}

export class KeyMaterialError extends Error {
  override name = 'KeyMaterialError';
}

const KEY_BYTES = 32;

export function keyIdOf(key: Uint8Array): string {
  return createHash('sha256').update('keygate-key-id').update(key).digest('hex').slice(0, 16);
}

function parseKey(text: string, origin: string): Buffer {
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== KEY_BYTES) {
    throw new KeyMaterialError(`${origin} must hold ${KEY_BYTES} random bytes in base64 (e.g. \`openssl rand -base64 32\`)`);
  }
  return key;
}

export interface ResolveKeyOptions {
  readonly production: boolean;
  /** Where a development key is kept (and generated when missing). */
  readonly developmentFile: string;
  readonly onGenerated?: (file: string, variable: string) => void;
}

/**
 * Finds a key from the environment or its key file. Outside production a missing key is
 * generated into the data directory (mode 0600); in production it stops the start,
 * naming the variable, because a key the code invents would be lost with the machine.
 */
export function resolveKey(source: KeySource, options: ResolveKeyOptions): IdentifiedKey {
  let key: Buffer;
  if (source.value) {
    key = parseKey(source.value, source.variable);
  } else if (source.file) {
    let text: string;
    try {
      text = readFileSync(source.file, 'utf8');
    } catch (error) {
      throw new KeyMaterialError(`${source.variable}_FILE: cannot read ${source.file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    key = parseKey(text, `${source.variable}_FILE (${source.file})`);
  } else if (options.production) {
    throw new KeyMaterialError(`${source.variable} (or ${source.variable}_FILE) is required when NODE_ENV=production`);
  } else {
    key = loadOrCreateDevelopmentKey(options.developmentFile, source.variable, options.onGenerated);
  }
  return Object.freeze({ id: keyIdOf(key), key });
}

function loadOrCreateDevelopmentKey(file: string, variable: string, onGenerated?: (file: string, variable: string) => void): Buffer {
  if (existsSync(file)) return parseKey(readFileSync(file, 'utf8'), file);
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const key = randomBytes(KEY_BYTES);
  // 'wx' fails if another process created the file meanwhile; then use theirs.
  try {
    writeFileSync(file, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return parseKey(readFileSync(file, 'utf8'), file);
    throw error;
  }
  chmodSync(file, 0o600);
  onGenerated?.(file, variable);
  return key;
}

/**
 * Master keys being retired, from `…_PREVIOUS` (base64 keys separated by commas) or
 * `…_PREVIOUS_FILE` (one per line). Outside production, a `.previous.key` file next to
 * the development key is read too. None is an ordinary state: there is nothing to retire.
 */
export function resolvePreviousKeys(source: KeySource, options: ResolveKeyOptions): IdentifiedKey[] {
  let text = source.value ?? '';
  const file = source.file ?? (options.production ? undefined : options.developmentFile.replace(/\.key$/, '.previous.key'));
  if (file && (source.file || existsSync(file))) {
    try {
      text += `\n${readFileSync(file, 'utf8')}`;
    } catch (error) {
      throw new KeyMaterialError(`${source.variable}_FILE: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  return text.split(/[\s,]+/).filter(Boolean).map((value) => {
    const key = parseKey(value, source.variable);
    return Object.freeze({ id: keyIdOf(key), key });
  });
}

/** A key for one purpose derived from a master key, so one secret never serves two jobs. */
export const hkdfKey = (master: Buffer, purpose: string): Buffer =>
  Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), purpose, 32));
