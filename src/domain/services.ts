import type { SigningKeys } from './signing/signing-keys.js';
import type { ClientAssertionStore } from './apps/client-assertions.js';
import type { AppDirectory } from './apps/app-directory.js';
import type { AppOwners } from './apps/app-owners.js';
import type { AppsService } from './apps/apps-service.js';
import type { ExtranetService } from './apps/extranet.js';
import type { OwnerInvitations } from './apps/owner-invitations.js';
import type { UsageReport } from './apps/usage.js';
import type { ConnectService } from './connect/connect-service.js';
import type { ConsentService } from './consent/consent-service.js';
import type { ConsentProofs } from './consent/consent-proofs.js';
import type { Passwords } from './people/passwords.js';
import type { PeopleService } from './people/people-service.js';
import type { PersonDirectory } from './people/person-directory.js';
import type { PersonProfiles } from './people/person-profiles.js';
import type { AccountService } from './people/account-service.js';
import type { AccountCentre } from './people/account-centre.js';
import type { Challenges } from './people/challenges.js';
import type { SecondFactor } from './people/second-factor.js';
import type { ProfileImages } from './people/profile-image.js';
import type { SessionService } from './sessions/session-service.js';
import type { TokenService } from './tokens/token-service.js';
import type { SignInThrottle } from './protection/sign-in-throttle.js';
import type { AppRateLimit } from './protection/app-rate-limit.js';
import type { Readiness } from '../readiness.js';
import type { ZoneMoves } from './zones/zone-move.js';
import type { Reauthentication } from './authn/reauthentication.js';
import type { SignInFlows } from './authn/sign-in-flows.js';
import type { Metrics } from './metrics.js';

/** The domain as the protocol front-ends see it; built once by the composition root. */
export interface Services {
  /** Registers apps and changes their settings and keys. */
  readonly apps: AppsService;
  /** Finds apps (cached in the node) as the protocols use them. */
  readonly appDirectory: AppDirectory;
  readonly appOwners: AppOwners;
  readonly extranet: ExtranetService;
  readonly ownerInvitations: OwnerInvitations;
  readonly usage: UsageReport;
  readonly connects: ConnectService;
  readonly consents: ConsentService;
  readonly consentProofs: ConsentProofs;
  /** Creates people and changes the identifiers they sign in with. */
  readonly people: PeopleService;
  /** Finds people across zones by the blind indexes of their identifiers. */
  readonly personDirectory: PersonDirectory;
  readonly passwords: Passwords;
  /** Opens a person's sealed fields, each read audited. */
  readonly profiles: PersonProfiles;
  readonly accounts: AccountService;
  readonly accountCentre: AccountCentre;
  readonly zoneMoves: ZoneMoves;
  readonly challenges: Challenges;
  readonly secondFactor: SecondFactor;
  readonly reauthentication: Reauthentication;
  readonly images: ProfileImages;
  readonly sessions: SessionService;
  readonly signInFlows: SignInFlows;
  readonly tokens: TokenService;
  readonly signInThrottle: SignInThrottle;
  readonly appRateLimit: AppRateLimit;
  /**
   * OpenID Connect authorization requests per client, counted apart from its API calls:
   * the endpoint takes anyone's browser, and flooding it must not cost the client its tokens.
   */
  readonly authorizationRateLimit: AppRateLimit;
  readonly readiness: () => Promise<Readiness>;
  /** Where the front-ends report what they count (requests, sign-ins, codes and tokens). */
  readonly metrics: Metrics;
  /** The ids of used private_key_jwt client assertions, each accepted once. */
  readonly clientAssertions: ClientAssertionStore;
  /** Keygate's own signing keys: the published key set and the key that signs now. */
  readonly signingKeys: SigningKeys;
}
