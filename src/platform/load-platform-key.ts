import { setTimeout as sleep } from "node:timers/promises";
import { PlatformKey } from "../security/platform-key.ts";

const attempts = 5;
const retryDelayMs = 100;

/**
 * Loads or creates the platform key. Services of one deployment started at the same moment
 * may race to create the file: the loser gets EEXIST, or a file still being written, and
 * retries until the winner's key is complete.
 */
export async function loadPlatformKey(path: string): Promise<PlatformKey> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await PlatformKey.loadOrCreate(path);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      const retryable = code === "EEXIST" || code === "FAILED_PRECONDITION";
      if (!retryable || attempt >= attempts) throw error;
      await sleep(retryDelayMs);
    }
  }
}
