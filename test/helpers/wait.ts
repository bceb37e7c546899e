// Waiting in tests: poll for the condition a test needs, with a bound, instead of sleeping a
// fixed time and hoping the work was done by then.

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export type EventuallyOptions = {
  /** What is awaited, as the failure message should name it: "the crawl to be running". */
  what: string;
  timeoutMs?: number;
  intervalMs?: number;
};

type Falsy = false | null | undefined | 0 | "";

/**
 * Calls `check` until it returns a truthy value, and returns that value. A check that throws is
 * retried too (its last error is reported). Fails after `timeoutMs` naming what was awaited and
 * what was last seen.
 */
export async function eventually<T>(check: () => T | Falsy | Promise<T | Falsy>, options: EventuallyOptions): Promise<T> {
  const { what, timeoutMs = 10_000, intervalMs = 100 } = options;
  const deadline = Date.now() + timeoutMs;
  let last: unknown = undefined;
  let lastError: unknown = undefined;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
      last = value;
      lastError = undefined;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) break;
    await sleep(Math.min(intervalMs, Math.max(0, deadline - Date.now())));
  }
  const seen = lastError !== undefined ? `the check threw: ${lastError instanceof Error ? lastError.message : String(lastError)}` : `last seen: ${JSON.stringify(last)}`;
  throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what} (${seen})`);
}
