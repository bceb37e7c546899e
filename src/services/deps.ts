// Everything a service may depend on, built once from the Worker's env by wiring.ts. Each service
// function takes the part it needs (`Pick<ServiceDeps, "db" | "now">`), so tests, routes, queue
// consumers and Durable Object alarms call the same functions with the same wiring.
import type { Db } from "../db/client";
import type { KeyRing } from "../auth/secrets";
import type { BrowserBinding } from "../browser/session";
import type { UrlPolicy } from "../browser/url-policy";
import type { JobMessage, NotifyMessage } from "../schemas/messages";
import type { Clock } from "./clock";
import type { RunRow } from "../db/runs";
import type { OnSettled } from "./settled";
import type { TokenRevoker } from "./tokens";
import type { Tracker } from "./tracker";
import type { Outbound } from "./outbound";
import type { WebhookPolicy } from "./webhook-policy";

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
  /** Announces that a queued run started (webhooks' run.started). */
  onRunStarted: (run: RunRow) => Promise<void>;
  /** Calls to the third parties we report to (GitHub, webhook receivers); tests stand them in locally. */
  outbound: Outbound;
  /** GitHub's REST API (GITHUB_API_URL), set by the operator. */
  githubApiUrl: string;
  /** What links in reports are signed with, and the origin they use (else the run's own). */
  links: { secret: string; publicBaseUrl: string };
  /** Webhook delivery: the retry schedule, time-out and when a failing endpoint is disabled; tests shorten them. */
  webhookPolicy: WebhookPolicy;
  /** The run watchdog and the heartbeat that holds it off; tests shorten them. */
  timing?: { watchdogMs: number; heartbeatMs: number };
};
