import { SYSTEM, type Actor } from '../audit/audit-log.js';
import type { PersonRef } from '../zones/zone-registry.js';
import { isUuid } from './app.js';
import type { AppOwnerStore } from './app-store.js';

/** Who may manage an app in the dashboard: its owners (accounts, by opaque id). */
export class AppOwners {
  readonly #store: AppOwnerStore;

  constructor(options: { readonly store: AppOwnerStore }) {
    this.#store = options.store;
  }

  async isOwner(appId: string, personId: string): Promise<boolean> {
    if (!isUuid(appId)) return false;
    return this.#store.isOwner(appId.toLowerCase(), personId);
  }

  /** The apps a person owns, by name. */
  appsOwnedBy(personId: string): Promise<Array<{ id: string; name: string; createdAt: Date }>> {
    return this.#store.appsOwnedBy(personId);
  }

  ownersOf(appId: string): Promise<PersonRef[]> {
    return this.#store.ownersOf(appId);
  }

  async addOwner(appId: string, owner: PersonRef, actor: Actor = SYSTEM): Promise<void> {
    await this.#store.change(async (changes) => {
      // Owners are opaque person ids, already held by the control plane.
      if (await changes.add(appId, owner)) await changes.audit(actor, [{ action: 'app.owner_added', appId, detail: owner.id }]);
    });
  }

  /** Removes an owner; the last owner cannot leave (the app would be unmanageable). */
  async removeOwner(appId: string, personId: string, actor: Actor = SYSTEM): Promise<'removed' | 'last_owner' | 'not_an_owner'> {
    if (!isUuid(personId)) return 'not_an_owner';
    return this.#store.change(async (changes) => {
      const owners = await changes.lockOwners(appId);
      if (!owners.includes(personId)) return 'not_an_owner';
      if (owners.length <= 1) return 'last_owner';
      await changes.remove(appId, personId);
      // What a removed owner asked for goes with them.
      await changes.dropInvitationsBy(appId, personId);
      await changes.audit(actor, [{ action: 'app.owner_removed', appId, detail: personId }]);
      return 'removed';
    });
  }

  /** An erased person owns nothing any more, and is invited to own nothing. */
  async forgetOwner(personId: string): Promise<void> {
    await this.#store.change(async (changes) => {
      const apps = await changes.forgetPerson(personId);
      await changes.audit(SYSTEM, apps.map((appId) => ({ action: 'app.owner_removed', appId, detail: personId })));
    });
  }
}
