import sharp from 'sharp';
import { decryptField, encryptField, DecryptionError } from '../../crypto/field-cipher.js';
import { unwrapDataKey } from '../../crypto/key-ring.js';
import type { RequestActor } from '../audit/audit-log.js';
import type { Clock } from '../clock.js';
import type { PersonRef, Zone, ZoneRegistry } from '../zones/zone-registry.js';
import { ZONE_NAMES } from '../zones/zones.js';
import { sealedAt } from '../residency/person-data.js';
import { requireDataKey } from './data-key.js';
import { readOwnSealedField } from './own-field.js';

export const MAX_IMAGE_BYTES = 5 * 1024 * 1024;
const IMAGE_SIDE = 512;
const LINK_MINUTES = 60;
const ACCEPTED_FORMATS = new Set(['jpeg', 'png', 'webp']);
const imageLocation = (personId: string) => sealedAt('people', 'image_ct', personId);
const linkLocation = { table: 'image_links', column: 'token', rowId: 'v1' };

export class ImageRefused extends Error {
  override name = 'ImageRefused';
}

/**
 * Re-encodes an uploaded picture: only real PNG, JPEG or WebP files are read (by their
 * content, never their name), turned upright, cut to a 512-pixel square and written as
 * WebP. Nothing of the original file survives: EXIF (GPS included), ICC and XMP are dropped.
 */
export async function normaliseImage(bytes: Buffer): Promise<Buffer> {
  if (bytes.length === 0 || bytes.length > MAX_IMAGE_BYTES) throw new ImageRefused('Choose a PNG, JPEG or WebP image of at most 5 MB.');
  let format: string | undefined;
  try {
    format = (await sharp(bytes, { limitInputPixels: 40_000_000 }).metadata()).format;
  } catch {
    throw new ImageRefused('This file is not an image we can read. Choose a PNG, JPEG or WebP image.');
  }
  if (!format || !ACCEPTED_FORMATS.has(format)) throw new ImageRefused('Choose a PNG, JPEG or WebP image.');
  try {
    return await sharp(bytes, { limitInputPixels: 40_000_000, failOn: 'error' })
      .rotate()
      .resize(IMAGE_SIDE, IMAGE_SIDE, { fit: 'cover' })
      .webp({ quality: 82 })
      .toBuffer();
  } catch {
    throw new ImageRefused('This image is damaged or truncated. Choose another one.');
  }
}

interface LinkClaims {
  readonly zone: string;
  readonly personId: string;
  readonly appId: string;
  readonly expires: number;
}

/**
 * Profile images: stored sealed under the person's data key like every field, and
 * handed to apps as absolute capability URLs that expire. A link is sealed (AES-GCM),
 * not signed: it names no person id an app could correlate, and two links to one
 * picture look unrelated.
 */
export class ProfileImages {
  constructor(
    private readonly zones: ZoneRegistry,
    private readonly clock: Clock,
    private readonly linkKey: Buffer,
    private readonly publicUrl: string,
  ) {}

  async setImage(person: PersonRef, upload: Buffer, actor: RequestActor): Promise<void> {
    const image = await normaliseImage(upload);
    const zone = this.zones.get(person.zone);
    await zone.people.transaction(async (writes) => {
      await writes.setImage(person.id, encryptField(await requireDataKey(writes, zone, person.id), imageLocation(person.id), image));
      await writes.audit({ ...actor, kind: 'person', id: person.id }, [{ action: 'person.field_changed', personId: person.id, field: 'image' }]);
    });
  }

  async removeImage(person: PersonRef, actor: RequestActor): Promise<void> {
    const zone = this.zones.get(person.zone);
    await zone.people.transaction(async (writes) => {
      await writes.setImage(person.id, null);
      await writes.audit({ ...actor, kind: 'person', id: person.id }, [{ action: 'person.field_changed', personId: person.id, field: 'image' }]);
    });
  }

  /** The link an app receives in `/me` for a person whose image it may read. */
  linkFor(person: PersonRef, appId: string): string {
    // Packed, not JSON: the link must stay short (URLs with long path segments are refused).
    const claims = Buffer.alloc(1 + 16 + 16 + 8);
    claims.writeUInt8(ZONE_NAMES.indexOf(person.zone), 0);
    Buffer.from(person.id.replace(/-/g, ''), 'hex').copy(claims, 1);
    Buffer.from(appId.replace(/-/g, ''), 'hex').copy(claims, 17);
    claims.writeBigUInt64BE(BigInt(this.clock.now().getTime() + LINK_MINUTES * 60_000), 33);
    return `${this.publicUrl}/images/${encryptField(this.linkKey, linkLocation, claims).toString('base64url')}`;
  }

  #open(token: string): LinkClaims | null {
    if (!/^[A-Za-z0-9_-]{40,200}$/.test(token)) return null;
    let claims: Buffer;
    try {
      claims = decryptField(this.linkKey, linkLocation, Buffer.from(token, 'base64url'));
    } catch (error) {
      if (error instanceof DecryptionError) return null;
      throw error;
    }
    if (claims.length !== 41) return null;
    const uuid = (bytes: Buffer) => bytes.toString('hex').replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5');
    const zone = ZONE_NAMES[claims.readUInt8(0)];
    const expires = Number(claims.readBigUInt64BE(33));
    if (!zone || expires <= this.clock.now().getTime()) return null;
    return { zone, personId: uuid(claims.subarray(1, 17)), appId: uuid(claims.subarray(17, 33)), expires };
  }

  /**
   * The picture behind a link, while the link lives and the app still holds the grant;
   * each fetch is recorded as the app's read of the field. Null otherwise.
   */
  async fetchForApp(token: string, requestId: string): Promise<Buffer | null> {
    const claims = this.#open(token);
    if (!claims) return null;
    // A link names the zone it was made in; a person who moved since is in another.
    for (const zone of this.zones.searchOrder(claims.zone as PersonRef['zone'])) {
      const image = await this.#fetchIn(zone, claims, requestId);
      if (image) return image;
    }
    return null;
  }

  async #fetchIn(zone: Zone, claims: { personId: string; appId: string }, requestId: string): Promise<Buffer | null> {
    return zone.people.transaction(async (writes) => {
      const stored = await writes.imageGrantedTo(claims.personId, claims.appId);
      if (!stored) return null;
      const image = decryptField(unwrapDataKey(zone.ring, claims.personId, stored.key), imageLocation(claims.personId), stored.sealed);
      await writes.audit({ kind: 'app', id: claims.appId, appId: claims.appId, requestId }, [{ action: 'field.read', personId: claims.personId, field: 'image', purpose: 'image fetch' }]);
      return image;
    });
  }

  /** The person's own picture, for their account page (their own read, recorded). */
  ownImage(person: PersonRef, requestId: string): Promise<Buffer | null> {
    return readOwnSealedField(this.zones.get(person.zone), person, 'image_ct', { field: 'image', purpose: 'account centre', requestId });
  }

}
