import { randomBytes, randomUUID, webcrypto } from "node:crypto";
import { SignJWT, errors as joseErrors, jwtVerify } from "jose";
import { CloisterError } from "../common/errors.ts";
import { recordKeys } from "../storage/records.ts";
import type { StorageBackend } from "../storage/storage-backend.ts";
import { readRecord, retryOnConflict, writeRecord } from "../storage/versioned.ts";
import type { PlatformKey } from "./platform-key.ts";

/** Claims of a Cloister token; the names follow Teaclave's `UserAuthClaims`. */
export interface TokenClaims {
  readonly sub: string;
  readonly role: string;
  readonly iss: string;
  /** Expiry, seconds since the epoch. */
  readonly exp: number;
  /** Issue time, seconds since the epoch. */
  readonly iat: number;
  /** The user's token generation when the token was issued. */
  readonly generation: number;
}

interface StoredSigningKey {
  readonly kid: string;
  /** The HMAC secret sealed with the platform key, base64. */
  readonly sealedSecret: string;
  readonly createdAtSeconds: number;
}

interface SigningKeysRecord {
  /** Newest last; the newest key signs, all of them verify. */
  readonly keys: readonly StoredSigningKey[];
}

const secretBytes = 64;
const audience = "cloister-api";
const reloadIntervalMs = 60_000;
/** Verified tokens remembered at once; the oldest is forgotten first. */
const maxVerifiedTokens = 10_000;

/**
 * Issues and verifies HS512 JSON Web Tokens. The signing keys persist in storage, sealed with
 * the platform key, so tokens survive a restart. `rotate` adds a new signing key and keeps
 * the old ones for verification until every token they signed has expired.
 */
export class TokenService {
  readonly #storage: StorageBackend;
  readonly #platformKey: PlatformKey;
  readonly #issuer: string;
  readonly #lifetimeSeconds: number;
  #secrets = new Map<string, webcrypto.CryptoKey>();
  #signingKid = "";
  #loadedAtMs = 0;
  readonly #verified = new Map<string, TokenClaims>();

  private constructor(
    storage: StorageBackend,
    platformKey: PlatformKey,
    issuer: string,
    lifetimeSeconds: number,
  ) {
    this.#storage = storage;
    this.#platformKey = platformKey;
    this.#issuer = issuer;
    this.#lifetimeSeconds = lifetimeSeconds;
  }

  /** Loads the signing keys, creating the first one on a new platform. */
  static async open(
    storage: StorageBackend,
    platformKey: PlatformKey,
    options: { issuer: string; lifetimeSeconds: number },
  ): Promise<TokenService> {
    const service = new TokenService(storage, platformKey, options.issuer, options.lifetimeSeconds);
    if (!(await service.#reload())) await service.rotate();
    return service;
  }

  /** Adds a new signing key and returns its id. Tokens signed by older keys stay valid. */
  async rotate(): Promise<string> {
    const kid = randomUUID();
    const secret = randomBytes(secretBytes);
    const nowSeconds = Math.floor(Date.now() / 1000);
    await retryOnConflict(async () => {
      const current = await readRecord<SigningKeysRecord>(this.#storage, recordKeys.jwtKeys());
      // Keys older than one token lifetime (plus the new key's start) can no longer have
      // valid tokens, so rotation also drops them.
      const recentKeys = (current?.value.keys ?? []).filter(
        (key) => key.createdAtSeconds > nowSeconds - 2 * this.#lifetimeSeconds,
      );
      const sealedSecret = this.#platformKey.seal(secret, `jwt-key/${kid}`).toString("base64");
      const next: SigningKeysRecord = {
        keys: [...recentKeys, { kid, sealedSecret, createdAtSeconds: nowSeconds }],
      };
      await this.#storage.commit({ writes: [writeRecord(recordKeys.jwtKeys(), next, current)] });
    });
    await this.#reload();
    return kid;
  }

  async issue(userId: string, role: string, generation: number): Promise<string> {
    // A rotation by another process (for example `cloister admin rotate-token-key`) takes
    // effect here within a minute.
    if (Date.now() - this.#loadedAtMs > reloadIntervalMs) await this.#reload();
    const secret = this.#secrets.get(this.#signingKid);
    if (secret === undefined) throw new CloisterError("INTERNAL", "no signing key is loaded");
    return new SignJWT({ role, gen: generation })
      .setProtectedHeader({ alg: "HS512", kid: this.#signingKid })
      .setSubject(userId)
      .setIssuer(this.#issuer)
      .setAudience(audience)
      .setIssuedAt()
      .setExpirationTime(`${this.#lifetimeSeconds}s`)
      .sign(secret);
  }

  /** Verifies a token's signature, issuer, audience and expiry; raises UNAUTHENTICATED. */
  async verify(token: string): Promise<TokenClaims> {
    // A token's signature and claims never change, so a verified token is remembered until
    // it expires. The caller still checks the user's current record on every call.
    const remembered = this.#verified.get(token);
    if (remembered !== undefined && remembered.exp > Date.now() / 1000) return remembered;
    const claims = await this.#verifySignature(token);
    this.#verified.set(token, claims);
    if (this.#verified.size > maxVerifiedTokens) {
      const oldest = this.#verified.keys().next().value;
      if (oldest !== undefined) this.#verified.delete(oldest);
    }
    return claims;
  }

  async #verifySignature(token: string): Promise<TokenClaims> {
    try {
      const { payload } = await jwtVerify(token, (header) => this.#secretFor(header.kid), {
        issuer: this.#issuer,
        audience,
        algorithms: ["HS512"],
      });
      if (
        typeof payload.sub !== "string" ||
        typeof payload["role"] !== "string" ||
        typeof payload.exp !== "number" ||
        typeof payload.iat !== "number" ||
        typeof payload["gen"] !== "number"
      ) {
        throw new CloisterError("UNAUTHENTICATED", "invalid token");
      }
      return {
        sub: payload.sub,
        role: payload["role"],
        iss: this.#issuer,
        exp: payload.exp,
        iat: payload.iat,
        generation: payload["gen"],
      };
    } catch (error) {
      if (CloisterError.is(error)) throw error;
      const expired = error instanceof joseErrors.JWTExpired;
      throw new CloisterError(
        "UNAUTHENTICATED",
        expired ? "token expired: log in again" : "invalid token",
        { cause: error },
      );
    }
  }

  async #secretFor(kid: string | undefined): Promise<webcrypto.CryptoKey> {
    if (kid === undefined) throw new CloisterError("UNAUTHENTICATED", "invalid token");
    let secret = this.#secrets.get(kid);
    if (secret === undefined) {
      // Another process may have rotated the keys since this one loaded them.
      await this.#reload();
      secret = this.#secrets.get(kid);
    }
    if (secret === undefined) throw new CloisterError("UNAUTHENTICATED", "invalid token");
    return secret;
  }

  async #reload(): Promise<boolean> {
    const record = await readRecord<SigningKeysRecord>(this.#storage, recordKeys.jwtKeys());
    const newest = record?.value.keys.at(-1);
    if (record === undefined || newest === undefined) return false;
    const secrets = new Map<string, webcrypto.CryptoKey>();
    for (const key of record.value.keys) {
      const sealed = Buffer.from(key.sealedSecret, "base64");
      // Imported once here, so that verifying a token does not import the key again.
      const secret = this.#platformKey.unseal(sealed, `jwt-key/${key.kid}`);
      secrets.set(
        key.kid,
        await webcrypto.subtle.importKey("raw", secret, { name: "HMAC", hash: "SHA-512" }, false, [
          "sign",
          "verify",
        ]),
      );
    }
    this.#secrets = secrets;
    this.#signingKid = newest.kid;
    this.#loadedAtMs = Date.now();
    return true;
  }
}
