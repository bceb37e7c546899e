// Everything a service may depend on, built once from the Worker's env by wiring.ts. Each service
// function takes the part it needs (`Pick<ServiceDeps, "db" | "now">`), so tests, routes, queue
// consumers and Durable Object alarms call the same functions with the same wiring.
import type { Db } from "../db/client";
import type { KeyRing } from "../auth/secrets";
import type { BrowserBinding } from "../browser/session";
import type { UrlPolicy } from "../browser/url-policy";
import type { JobMessage, NotifyMessage } from "../schemas/messages";
import type { Clock } from "./clock";
import type { OnSettled } from "./settled";
import type { TokenRevoker } from "./tokens";
import type { Tracker } from "./tracker";

export type ServiceDeps = {
  db: Db;
  /** A session on the primary, for a read that must not miss a fresh write (requests only). */
  primaryDb?: () => Db;
  now: Clock;
  jobs: Queue<JobMessage>;
  notify: Queue<NotifyMessage>;
  tracker: Tracker;
  policy: UrlPolicy;
  keys: () => Promise<KeyRing>;
  artifacts: R2Bucket;
  browser: BrowserBinding;
  limiter: TokenRevoker;
  /** Announces settled work to every listener (services/settled.ts). */
  onSettled: OnSettled;
  /** The run watchdog and the heartbeat that holds it off; tests shorten them. */
  timing?: { watchdogMs: number; heartbeatMs: number };
};
