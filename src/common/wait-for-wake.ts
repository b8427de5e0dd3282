/**
 * Waits until a wake function is called, `timeoutMs` passes or `signal` aborts, whichever
 * comes first. `subscribe` registers the wake function and returns the function that
 * removes it again, which runs in every case.
 */
export function waitForWake(
  subscribe: (wake: () => void) => () => void,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<void> {
  if (signal?.aborted === true) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      unsubscribe();
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    signal?.addEventListener("abort", done, { once: true });
    const unsubscribe = subscribe(done);
  });
}
