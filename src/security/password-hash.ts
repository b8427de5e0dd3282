import { hash, verify } from "@node-rs/argon2";

// Argon2id with 19 MiB of memory, 2 passes and one lane: the OWASP baseline, about 10 ms per
// hash on the development machine.
const argon2idOptions = { algorithm: 2, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

/** Hashes a password with Argon2id; the result is a self-describing PHC string. */
export function hashPassword(password: string): Promise<string> {
  return hash(password, argon2idOptions);
}

/** Checks a password against a PHC string made by `hashPassword`. */
export async function verifyPassword(phcHash: string, password: string): Promise<boolean> {
  try {
    return await verify(phcHash, password);
  } catch {
    return false;
  }
}
