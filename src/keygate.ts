import type { FastifyInstance } from 'fastify';
import path from 'node:path';
import type { Logger } from 'pino';
import type { KeygateConfig, StoreKeys } from './config/config.js';
import { KeyRing } from './crypto/key-ring.js';
import { resolveKey, resolvePreviousKeys } from './crypto/master-keys.js';
import { AppDirectory } from './domain/apps/app-directory.js';
import { AppOwners } from './domain/apps/app-owners.js';
import { AppsService } from './domain/apps/apps-service.js';
import { ExtranetService } from './domain/apps/extranet.js';
import { OwnerInvitations } from './domain/apps/owner-invitations.js';
import { InvitationLimits } from './domain/protection/invitation-limits.js';
import { UsageReport } from './domain/apps/usage.js';
import { createMailer } from './mail/mailer.js';
import { systemClock, type Clock } from './domain/clock.js';
import { ConnectService } from './domain/connect/connect-service.js';
import { ConsentService } from './domain/consent/consent-service.js';
import { ConsentProofs } from './domain/consent/consent-proofs.js';
import { Passwords } from './domain/people/passwords.js';
import { PeopleService } from './domain/people/people-service.js';
import { PersonDirectory } from './domain/people/person-directory.js';
import { PersonProfiles } from './domain/people/person-profiles.js';
import { AccountMail } from './domain/people/account-mail.js';
import { AccountService } from './domain/people/account-service.js';
import { AccountCentre } from './domain/people/account-centre.js';
import { Challenges } from './domain/people/challenges.js';
import { Reauthentication } from './domain/authn/reauthentication.js';
import { SecondFactor } from './domain/people/second-factor.js';
import { ProfileImages } from './domain/people/profile-image.js';
import type { Services } from './domain/services.js';
import { SessionService } from './domain/sessions/session-service.js';
import { SignInFlows } from './domain/authn/sign-in-flows.js';
import { TokenService } from './domain/tokens/token-service.js';
import { ZoneRegistry } from './domain/zones/zone-registry.js';
import { ZONE_NAMES } from './domain/zones/zones.js';
import { buildHttpServer } from './http/server.js';
import { Ukey1AccessTokens } from './protocols/ukey1/access-token.js';
import { ClientAssertionsRepo } from './storage/control/client-assertions.js';
import { BackchannelLogout } from './protocols/oidc/backchannel-logout.js';
import { createLogger, logsForAPerson } from './logger.js';
import { APP_CHANGES_CHANNEL, AppOwnersRepo, AppsRepo } from './storage/control/apps.js';
import { ConnectRequestsRepo } from './storage/control/connect-requests.js';
import { ControlTrailRepo } from './storage/control/trail.js';
import { ZoneMoveJournalRepo } from './storage/control/zone-move-journal.js';
import { PrivateListsRepo } from './storage/control/private-lists.js';
import { SignInFlowsRepo } from './storage/control/sign-in-flows.js';
import { zoneRepositories } from './storage/zone/repositories.js';
import { openStores, storeLocationsFromConfig, type StoreLocation, type StoreName, type Stores } from './storage/stores.js';
import { DEFAULT_THROTTLE_LIMITS, SignInThrottle } from './domain/protection/sign-in-throttle.js';
import { connectRedis } from './shared-state/redis.js';
import { AppRateLimit } from './domain/protection/app-rate-limit.js';

const API_CALLS_PER_APP_PER_MINUTE = 100_000;
/** OpenID Connect authorization requests a client may have opened per minute, apart from its API calls. */
const AUTHORIZATIONS_PER_CLIENT_PER_MINUTE = 20_000;
/** How long a person has to finish a sign-in they started. */
const SIGN_IN_FLOW_SECONDS = 30 * 60;
import { checkReadiness } from './readiness.js';
import { hkdfKey } from './crypto/master-keys.js';
import type { Redis } from 'ioredis';
import { purgeExpired, type PurgeResult } from './storage/maintenance/retention.js';
import { SigningKeys, LONGEST_SIGNED_TOKEN_SECONDS } from './domain/signing/signing-keys.js';
import { SigningKeysRepo } from './storage/control/signing-keys.js';
import { rotateControlKeys, rotateZoneKeys, type RotationOptions, type RotationResult } from './storage/maintenance/key-rotation.js';
import { AuditTrail } from './storage/audit/audit-trail.js';
import { ZoneMoves, type ZoneMoveFaults } from './domain/zones/zone-move.js';
import { OPERATOR } from './domain/audit/audit-log.js';
import { recordControlAudit } from './storage/audit-append.js';
import type { IdentifiedKey } from './crypto/master-keys.js';
import { NO_METRICS, type Metrics } from './domain/metrics.js';
import { PrometheusMetrics } from './observability/prometheus.js';

/** How often each store's audit chain is verified since its last checkpoint and sealed by a new one. */
const AUDIT_CHECKPOINT_EVERY_MS = 5 * 60 * 1000;

export interface KeygateOptions {
  readonly config: KeygateConfig;
  /** Overrides where each store lives (tests use in-memory clones of a migrated template). */
  readonly storeLocations?: Record<StoreName, StoreLocation>;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Fault injection for the zone-move tests. */
  readonly zoneMoveFaults?: ZoneMoveFaults;
}

/** A wired Keygate: the same object behind the server, the CLI and the tests. */
export interface Keygate {
  readonly config: KeygateConfig;
  readonly logger: Logger;
  readonly stores: Stores;
  /** Each legal zone with its repositories and keys. */
  readonly zones: ZoneRegistry;
  readonly services: Services;
  readonly http: FastifyInstance;
  /** Shared state across nodes, when `KEYGATE_REDIS_URL` is set. */
  readonly redis?: Redis;
  /** What this process counts, when `KEYGATE_METRICS_PORT` is set (`serve` opens its listener). */
  readonly prometheus?: PrometheusMetrics;
  /**
   * Deletes expired connect requests, codes, sessions and tokens, and finishes zone moves
   * that were interrupted between their two commits (run periodically by `serve`).
   */
  purgeExpired(): Promise<PurgeResult & { readonly zoneMovesFinished: number }>;
  /** Moves what a store sealed under retiring master keys to its current one (operator action). */
  rotateMasterKey(store: StoreName, options?: RotationOptions): Promise<RotationResult>;
  /** Resolves once every account email handed over so far has been delivered or has failed. */
  mailSettled(): Promise<void>;
  /** Resolves once every back-channel logout notice started so far has been delivered or given up. */
  logoutNoticesSettled(): Promise<void>;
  /** The hash-chained audit trails of every store: verify, checkpoint, export. */
  readonly audit: AuditTrail;
  close(): Promise<void>;
}

/**
 * The composition root: config → keys → stores → services → HTTP. Keys are resolved
 * before any store opens, so a missing production key stops the start early and cleanly.
 */
export async function createKeygate(options: KeygateOptions): Promise<Keygate> {
  const { config } = options;
  const logger = options.logger ?? createLogger(config.logLevel, undefined, { pretty: logsForAPerson(config.production) });
  const clock = options.clock ?? systemClock;

  // Keys generated for development are announced together, once they are all resolved.
  const generated: Array<{ variable: string; file: string }> = [];
  const keyOptions = (file: string) => ({
    production: config.production,
    developmentFile: path.join(config.dataDir, 'keys', file),
    onGenerated: (where: string, variable: string) => generated.push({ variable, file: where }),
  });
  // Each store's master keys (current first) also sign its audit checkpoints, through a derived key.
  const masterKeys = {} as Record<StoreName, IdentifiedKey[]>;
  const ringOf = (keys: StoreKeys, file: string, store: StoreName = 'control') => {
    const current = resolveKey(keys.master, keyOptions(file));
    const previous = resolvePreviousKeys(keys.previous, keyOptions(file));
    masterKeys[store] = [current, ...previous];
    return new KeyRing(current, previous);
  };
  const controlRing = ringOf(config.keys.control, 'master-control.key');
  const controlIndexKey = resolveKey(config.keys.control.index, keyOptions('index-control.key')).key;
  const zoneKeys = ZONE_NAMES.map((name) => ({
    name,
    ring: ringOf(config.keys[name], `master-${name}.key`, name),
    indexKey: resolveKey(config.keys[name].index, keyOptions(`index-${name}.key`)).key,
  }));

  if (generated.length > 0) {
    logger.warn([
      `generated ${generated.length} development key${generated.length === 1 ? '' : 's'}; in production each comes from its variable (or its _FILE):`,
      ...generated.map((g) => `  ${g.variable.padEnd(28)} ${g.file}`),
    ].join('\n'));
  }

  const prometheus = config.metrics ? new PrometheusMetrics() : undefined;
  const metrics: Metrics = prometheus ?? NO_METRICS;

  const redis = config.redis.url
    ? await connectRedis(config.redis.url, (error) => logger.warn({ err: error.message }, 'Redis is unavailable; rate limits fall back to this node'))
    : undefined;
  let stores: Stores;
  try {
    stores = await openStores(options.storeLocations ?? storeLocationsFromConfig(config), {
      pool: {
        ...config.database,
        onIdleError: (store, error) => logger.warn({ store, err: error.message }, 'a database connection was lost; the pool will reconnect'),
      },
      onError: prometheus && ((store, kind) => prometheus.storeFailed(store, kind)),
    });
  } catch (error) {
    redis?.disconnect();
    throw error;
  }
  const zones = new ZoneRegistry(zoneKeys.map((z) => ({ ...z, ...zoneRepositories(stores.zones[z.name].db) })));

  const appStore = new AppsRepo(stores.control.db);
  const appDirectory = new AppDirectory({ store: appStore, ring: controlRing, clock });
  const apps = new AppsService({ store: appStore, directory: appDirectory, ring: controlRing, rsaBits: config.rsaBits, clock });
  const appOwnerStore = new AppOwnersRepo(stores.control.db);
  const appOwners = new AppOwners({ store: appOwnerStore });
  // Other nodes' changes to apps, dropped from this node's cache as they commit.
  const appChanges = stores.control.listen(APP_CHANGES_CHANNEL, {
    onNotice: (appId) => appDirectory.forgetApp(appId),
    onResume: () => appDirectory.forgetAllApps(),
    onError: (error) => logger.warn({ err: error.message }, 'stopped hearing of app changes; listening again (cached apps meanwhile last a second at most)'),
  });
  const mailer = createMailer({ smtpUrl: config.mail.smtpUrl, from: config.mail.from, outboxDir: path.join(config.dataDir, 'outbox'), logger, metrics });
  const connects = new ConnectService(new ConnectRequestsRepo(stores.control.db), clock, config.connectTtlMinutes, config.publicUrl);
  const personDirectory = new PersonDirectory({ zones, control: new ControlTrailRepo(stores.control.db) });
  const profiles = new PersonProfiles({ zones });
  const passwords = new Passwords({ zones, directory: personDirectory });
  const people = new PeopleService({ zones, directory: personDirectory, profiles });
  const challenges = new Challenges(zones, clock);
  const images = new ProfileImages(zones, clock, hkdfKey(controlIndexKey, 'keygate/image-links'), config.publicUrl);
  const accountMail = new AccountMail(profiles, mailer, logger);
  const signInThrottle = new SignInThrottle(hkdfKey(controlRing.current.key, 'keygate/sign-in-throttle'), {
    redis,
    prefix: config.redis.prefix,
    limits: { ...DEFAULT_THROTTLE_LIMITS, addressAttempts: config.signInAttemptsPerAddress },
    metrics,
  });
  const accounts = new AccountService({
    people, directory: personDirectory, passwords, profiles, challenges, mail: accountMail, zones, clock, publicUrl: config.publicUrl,
    deviceKey: hkdfKey(controlIndexKey, 'keygate/devices'), admitMailTo: (person) => signInThrottle.admitMailTo(person),
  });
  const secondFactor = new SecondFactor({
    zones, profiles, challenges, mail: accountMail, clock, publicUrl: config.publicUrl, enrolmentKey: hkdfKey(controlRing.current.key, 'keygate/second-factor-enrolment'),
  });
  // Mail on an app's behalf and owner invitations, counted under pseudonyms of their own.
  const invitationLimits = new InvitationLimits(hkdfKey(controlRing.current.key, 'keygate/invitation-limits'), { redis, prefix: config.redis.prefix });
  const services: Services = {
    apps,
    appDirectory,
    appOwners,
    connects,
    people,
    personDirectory,
    passwords,
    profiles,
    challenges,
    accounts,
    accountCentre: new AccountCentre({ zones, profiles, apps: appDirectory, owners: appOwners, clock }),
    zoneMoves: new ZoneMoves(zones, new ZoneMoveJournalRepo(stores.control.db), clock, options.zoneMoveFaults, metrics),
    secondFactor,
    reauthentication: new Reauthentication({ passwords, directory: personDirectory, secondFactor, throttle: signInThrottle, announcePause: (person, minutes, requestId) => accounts.announcePause(person, minutes, requestId) }),
    usage: new UsageReport(zones, clock),
    consentProofs: new ConsentProofs(zones),
    extranet: new ExtranetService({
      store: new PrivateListsRepo(stores.control.db), ring: controlRing, indexKey: controlIndexKey, owners: appOwners, profiles, mailer,
      limits: invitationLimits, clock, publicUrl: config.publicUrl, logger,
    }),
    ownerInvitations: new OwnerInvitations({
      store: appOwnerStore, owners: appOwners, directory: personDirectory, mail: accountMail, limits: invitationLimits, clock, publicUrl: config.publicUrl,
    }),
    consents: new ConsentService(zones, connects, clock, config.authCodeTtlSeconds),
    sessions: new SessionService(zones, clock, config.sessionIdleMinutes, config.sessionAbsoluteHours),
    signInFlows: new SignInFlows({ store: new SignInFlowsRepo(stores.control.db), clock, ttlSeconds: SIGN_IN_FLOW_SECONDS }),
    tokens: new TokenService(zones, connects, profiles, clock, config.accessTokenTtlMinutes, config.refreshTokenTtlDays, images),
    images,
    signInThrottle,
    appRateLimit: new AppRateLimit(API_CALLS_PER_APP_PER_MINUTE, { redis, prefix: config.redis.prefix, metrics }),
    authorizationRateLimit: new AppRateLimit(AUTHORIZATIONS_PER_CLIENT_PER_MINUTE, { redis, prefix: config.redis.prefix, name: 'authorizations', metrics }),
    readiness: () => checkReadiness(stores, redis),
    metrics,
    clientAssertions: new ClientAssertionsRepo(stores.control.db),
    signingKeys: new SigningKeys({ store: new SigningKeysRepo(stores.control.db), ring: controlRing, clock, longestTokenSeconds: LONGEST_SIGNED_TOKEN_SECONDS }),
  };

  // Every sign-out is told, server to server, to the OpenID Connect clients of its session.
  const backchannelLogout = new BackchannelLogout({
    issuer: config.publicUrl, signingKeys: services.signingKeys, tokens: services.tokens, clock, allowPrivateNetworks: !config.production,
    findApp: (id) => services.appDirectory.findApp(id),
    onFailure: (appId, reason) => logger.warn({ appId, reason }, 'a client did not take its back-channel logout notice'),
  });
  services.sessions.onSignOut((person, sid) => backchannelLogout.sessionEnded(person, sid));

  let http: FastifyInstance;
  try {
    http = await buildHttpServer({
      services,
      accessTokens: new Ukey1AccessTokens({ issuer: config.publicUrl, clock }),
      publicUrl: config.publicUrl,
      clock,
      logger,
      csrfKey: hkdfKey(controlRing.current.key, 'keygate/csrf'),
      trustedProxies: config.trustedProxies,
      tls: config.tls,
    });
  } catch (error) {
    await appChanges?.close();
    await stores.close();
    redis?.disconnect();
    mailer.close();
    throw error;
  }

  const audit = new AuditTrail(stores, masterKeys, logger);
  prometheus?.observeStores(stores, audit);
  if (redis) prometheus?.observeRedis(redis);
  // Seals what each chain has verified up to, so that cutting off its tail is detected.
  const checkpoints = setInterval(() => void audit.checkpointAll(), AUDIT_CHECKPOINT_EVERY_MS);
  checkpoints.unref();

  return {
    config,
    logger,
    stores,
    zones,
    services,
    http,
    redis,
    prometheus,
    audit,
    async purgeExpired() {
      const purged = await purgeExpired(stores, clock);
      return { ...purged, zoneMovesFinished: await services.zoneMoves.finishInterrupted() };
    },
    async rotateMasterKey(store, rotation) {
      const result = store === 'control'
        ? await rotateControlKeys(stores.control.db, controlRing, rotation)
        : await rotateZoneKeys(stores.zones[store].db, zones.get(store).ring, rotation);
      // Checkpoints signed under a retiring key are signed again, so that it can go.
      const resigned = await audit.resignCheckpoints(store);
      await recordControlAudit(stores.control.db, OPERATOR, [{
        action: 'keys.master_rotated', appId: null,
        detail: `store=${store},key=${result.currentKeyId},rewrapped=${result.rewrapped},remaining=${result.remaining},checkpoints_resigned=${resigned}`,
      }]);
      return result;
    },
    mailSettled: () => accountMail.settled(),
    logoutNoticesSettled: () => backchannelLogout.settled(),
    async close() {
      clearInterval(checkpoints);
      services.appRateLimit.close();
      services.authorizationRateLimit.close();
      await http.close();
      await accountMail.settled();
      await appChanges?.close();
      await stores.close();
      redis?.disconnect();
      mailer.close();
    },
  };
}
