import { randomInt } from "node:crypto";
import { CloisterError } from "../../common/errors.ts";
import { formatRole, parseRole } from "../../common/roles.ts";
import type { UserRole } from "../../common/roles.ts";
import { hashPassword, verifyPassword } from "../../security/password-hash.ts";
import type { TokenClaims, TokenService } from "../../security/token-service.ts";
import { recordKeys } from "../../storage/records.ts";
import type { UserRecord } from "../../storage/records.ts";
import type { StorageBackend } from "../../storage/storage-backend.ts";
import { deleteRecord, readRecord, retryOnConflict, writeRecord } from "../../storage/versioned.ts";
import type { Versioned } from "../../storage/versioned.ts";
import { LoginThrottle } from "./login-throttle.ts";

const userIdPattern = /^[A-Za-z0-9_.@-]{1,128}$/;
const maxPasswordLength = 1024;

/** An authenticated user, as the token and the user record agree. */
export interface AuthenticatedUser {
  readonly userId: string;
  readonly role: UserRole;
  readonly claims: TokenClaims;
}

// A fixed Argon2id hash checked when the user does not exist, so that a login for an unknown
// user costs as much as one with a wrong password.
const absentUserHash = hashPassword("cloister-absent-user");

/** User accounts: storage, passwords and token checks. */
export class UserDirectory {
  readonly #storage: StorageBackend;
  readonly #tokens: TokenService;
  readonly #throttle = new LoginThrottle();

  constructor(storage: StorageBackend, tokens: TokenService) {
    this.#storage = storage;
    this.#tokens = tokens;
  }

  async get(userId: string): Promise<Versioned<UserRecord> | undefined> {
    return readRecord<UserRecord>(this.#storage, recordKeys.user(userId));
  }

  async require(userId: string): Promise<Versioned<UserRecord>> {
    const user = await this.get(userId);
    if (user === undefined)
      throw new CloisterError("NOT_FOUND", `user ${JSON.stringify(userId)} not found`);
    return user;
  }

  async list(): Promise<UserRecord[]> {
    const records = await this.#storage.list("users/");
    return records.map((record) => JSON.parse(record.value) as UserRecord);
  }

  async create(userId: string, password: string, role: UserRole): Promise<void> {
    validateUserId(userId);
    validatePassword(password);
    const record: UserRecord = {
      id: userId,
      role: formatRole(role),
      passwordHash: await hashPassword(password),
      // A random start, so that tokens of a deleted account with the same id never match.
      tokenGeneration: randomInt(2 ** 47),
    };
    try {
      await this.#storage.commit({ writes: [writeRecord(recordKeys.user(userId), record)] });
    } catch (error) {
      if (CloisterError.is(error) && error.code === "ABORTED") {
        throw new CloisterError("ALREADY_EXISTS", `user ${JSON.stringify(userId)} already exists`);
      }
      throw error;
    }
  }

  /**
   * Replaces a user's password and, when given, role. Every token issued before the change
   * stops working. `check` receives the current record first and may reject the change.
   */
  async update(
    userId: string,
    change: { password: string; role?: UserRole },
    check: (current: UserRecord) => void = () => {},
  ): Promise<void> {
    validatePassword(change.password);
    const passwordHash = await hashPassword(change.password);
    await retryOnConflict(async () => {
      const current = await this.require(userId);
      check(current.value);
      const next: UserRecord = {
        ...current.value,
        role: change.role === undefined ? current.value.role : formatRole(change.role),
        passwordHash,
        tokenGeneration: current.value.tokenGeneration + 1,
      };
      await this.#storage.commit({ writes: [writeRecord(recordKeys.user(userId), next, current)] });
    });
  }

  async delete(userId: string, check: (current: UserRecord) => void): Promise<void> {
    await retryOnConflict(async () => {
      const current = await this.require(userId);
      check(current.value);
      await this.#storage.commit({ writes: [deleteRecord(recordKeys.user(userId), current)] });
    });
  }

  /** Checks a password and issues a token; both failures give the same message. */
  async login(userId: string, password: string): Promise<string> {
    this.#throttle.check(userId);
    const user = await this.get(userId);
    const valid = await verifyPassword(
      user?.value.passwordHash ?? (await absentUserHash),
      password,
    );
    if (user === undefined || !valid) {
      this.#throttle.recordFailure(userId);
      throw new CloisterError("UNAUTHENTICATED", "invalid user id or password");
    }
    this.#throttle.recordSuccess(userId);
    return this.#tokens.issue(userId, user.value.role, user.value.tokenGeneration);
  }

  /**
   * Authenticates a user id and token: the token must be valid, issued to this user, carry
   * the user's current role and come from after the last password or role change.
   */
  async authenticate(userId: string, token: string): Promise<AuthenticatedUser> {
    if (userId === "" || token === "") {
      throw new CloisterError(
        "UNAUTHENTICATED",
        "missing credentials: send the id and token metadata",
      );
    }
    const claims = await this.#tokens.verify(token);
    const user = await this.get(userId);
    if (
      claims.sub !== userId ||
      user === undefined ||
      user.value.role !== claims.role ||
      claims.generation !== user.value.tokenGeneration
    ) {
      throw new CloisterError("UNAUTHENTICATED", "invalid token: log in again");
    }
    return { userId, role: parseRole(user.value.role), claims };
  }
}

function validateUserId(userId: string): void {
  if (!userIdPattern.test(userId)) {
    throw new CloisterError(
      "INVALID_ARGUMENT",
      `invalid user id ${JSON.stringify(userId.slice(0, 140))}: use 1 to 128 letters, digits, ` +
        "'_', '.', '@' or '-'",
    );
  }
}

function validatePassword(password: string): void {
  if (password.length === 0 || password.length > maxPasswordLength) {
    throw new CloisterError(
      "INVALID_ARGUMENT",
      `invalid password: it must have 1 to ${maxPasswordLength} characters`,
    );
  }
}
