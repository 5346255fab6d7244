import { newId } from "./ids.ts";

/** A minted secret: the `ek_…` value, its expiry (unix seconds) and the validated GA session attached to it. */
export interface ClientSecret {
  value: string;
  expiresAt: number;
  session: Record<string, unknown> | undefined;
}

/** Why a presented secret was refused. */
export type SecretLookup = { ok: true; secret: ClientSecret } | { ok: false; reason: "unknown" | "expired" };

/**
 * Issues and resolves ephemeral client secrets. As at OpenAI, a secret only *starts* calls (a started call
 * outlives it) and one secret may start several calls until it expires. `now` returns unix milliseconds and is
 * injectable so tests can step past an expiry without sleeping.
 */
export class ClientSecretStore {
  readonly #secrets = new Map<string, ClientSecret>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Mints a secret valid for `ttlSeconds` (10–7200, checked by the request schema). */
  issue(ttlSeconds: number, session: Record<string, unknown> | undefined): ClientSecret {
    this.#sweep();
    const secret: ClientSecret = {
      value: newId("ek"),
      expiresAt: Math.floor(this.#now() / 1000) + ttlSeconds,
      session,
    };
    this.#secrets.set(secret.value, secret);
    return secret;
  }

  /** Looks a presented `ek_…` value up; expired secrets are reported as such (and forgotten on the next sweep). */
  resolve(value: string): SecretLookup {
    const secret = this.#secrets.get(value);
    if (!secret) return { ok: false, reason: "unknown" };
    if (this.#now() >= secret.expiresAt * 1000) return { ok: false, reason: "expired" };
    return { ok: true, secret };
  }

  #sweep(): void {
    // Keep expired secrets for an hour so a late caller gets "expired" rather than "unknown".
    const horizon = this.#now() - 3_600_000;
    for (const [value, secret] of this.#secrets)
      if (secret.expiresAt * 1000 < horizon) this.#secrets.delete(value);
  }
}
