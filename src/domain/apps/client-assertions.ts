/**
 * Where the ids of used private_key_jwt assertions are kept until they expire, so that
 * each assertion authenticates its client once (OpenID Connect Core §9: the `jti` "MUST
 * only be used once"). In the control plane: an assertion names a client, not a person.
 */
export interface ClientAssertionStore {
  /** Records the assertion; false when the client used this `jti` already. */
  recordOnce(clientId: string, jti: string, expiresAt: Date): Promise<boolean>;
}
