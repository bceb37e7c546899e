// How webhook deliveries are retried and when a failing endpoint is disabled: the defaults below
// in production (wiring.ts), shorter thresholds or a later clock in tests.
export type WebhookPolicy = {
  /** Delays between attempts, in seconds: attempt n+1 comes retryDelaysSeconds[n-1] after attempt n. */
  retryDelaysSeconds: readonly number[];
  /** A 2xx within this time is success. */
  timeoutMs: number;
  /** An endpoint whose attempts have all failed for this long is disabled. */
  disableAfterMs: number;
  /** …or after this many messages in a row failed every attempt. */
  disableAfterFailedMessages: number;
  /** After a rotation the old secret signs too, for this long. */
  secretOverlapMs: number;
  /** Message bodies (what was sent) are kept this long for the delivery log and redelivery. */
  bodyRetentionMs: number;
};

const DAY_MS = 24 * 3600 * 1000;

/** Svix's schedule: at once, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h after the previous attempt. */
export const DEFAULT_WEBHOOK_POLICY: WebhookPolicy = {
  retryDelaysSeconds: [5, 300, 1800, 7200, 18000, 36000, 36000],
  timeoutMs: 15_000,
  disableAfterMs: 5 * DAY_MS,
  disableAfterFailedMessages: 50,
  secretOverlapMs: DAY_MS,
  bodyRetentionMs: 7 * DAY_MS,
};
