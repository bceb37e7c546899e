// The composition root: every service dependency built once from the Worker's env, for routes,
// queue consumers and Durable Object alarms alike. The settled fan-out is subscribed here: what
// happens when a run or a crawl settles is this list, in one place.
import type { Env } from "./env";
import { createDb, type Db } from "./db/client";
import { keyRingFrom } from "./auth/secrets";
import { urlPolicyFrom } from "./browser/url-policy";
import { rateLimiterClient } from "./durable/rate-limiter";
import { trackerClient } from "./durable/tracker-client";
import type { JobMessage, NotifyMessage } from "./schemas/messages";
import { systemClock } from "./services/clock";
import type { ServiceDeps } from "./services/deps";
import { fanOut, settledId, type SettledListener, type SettledWork } from "./services/settled";
import { continueRunAfterCrawl } from "./services/runs";
import type { Tracker } from "./services/tracker";
import { reportToGitHub } from "./services/reporting";
import { sendRunStarted, sendWebhookEvents } from "./services/webhooks";
import { DEFAULT_WEBHOOK_POLICY } from "./services/webhook-policy";

/** What a caller may provide instead: a request's D1 session, or a tracker that settles itself in place. */
export type WiringOverrides = { db?: Db; primaryDb?: () => Db; tracker?: Tracker };

export function wire(env: Env, overrides: WiringOverrides = {}): ServiceDeps {
  const deps: ServiceDeps = {
    db: overrides.db ?? createDb(env.DB),
    primaryDb: overrides.primaryDb,
    now: systemClock,
    jobs: env.JOBS as Queue<JobMessage>,
    notify: env.NOTIFY as Queue<NotifyMessage>,
    tracker: overrides.tracker ?? trackerClient(env.RUN_TRACKER),
    policy: urlPolicyFrom(env.PRIVATE_TARGET_ALLOWLIST),
    keys: () => keyRingFrom(env.CREDENTIAL_KEYS),
    artifacts: env.ARTIFACTS,
    browser: env.BROWSER,
    limiter: rateLimiterClient(env.RATE_LIMITER),
    outbound: (input, init) => fetch(input, init),
    githubApiUrl: env.GITHUB_API_URL || "https://api.github.com",
    links: { secret: env.LINK_SIGNING_SECRET, publicBaseUrl: env.PUBLIC_BASE_URL },
    webhookPolicy: DEFAULT_WEBHOOK_POLICY,
    onSettled: (work) => announce(work),
    onRunStarted: (run) => sendRunStarted(deps, run),
  };
  const announce = fanOut(settledListeners(deps));
  return deps;
}

/** Everything that follows a settled run or crawl. Each listener is idempotent (see services/settled.ts). */
function settledListeners(deps: ServiceDeps): SettledListener[] {
  return [
    { name: "wake waiters and end live streams", handle: (work) => deps.tracker.settled(settledId(work), statusOf(work)) },
    continueRunAfterCrawl(deps),
    reportToGitHub(deps),
    sendWebhookEvents(deps),
  ];
}

const statusOf = (work: SettledWork) => (work.kind === "run" ? work.run.status : work.crawl.status);
