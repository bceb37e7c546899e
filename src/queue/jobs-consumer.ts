// The JOBS queue: each message names one unit of browser work by id. Messages are validated
// (anything malformed is acked and logged, never retried forever); an unexpected failure is
// retried, and on the last attempt the run is settled as `error` so no caller waits forever.
import type { Env } from "../env";
import { createDb } from "../db/client";
import { JobMessage } from "../schemas/runs";
import { executeRun, failRun, type ExecutorDeps } from "../services/run-executor";
import { crawlTrackerClient, runTrackerClient } from "../durable/run-tracker";
import { executeCrawl, failCrawl, type CrawlExecutorDeps } from "../services/crawl-executor";
import { continueRunAfterScan } from "../services/runs";
import { keyRingFrom } from "../auth/secrets";
import { urlPolicyFrom } from "../browser/url-policy";

/** Keep in step with max_retries of the JOBS consumer in wrangler.toml. */
export const JOBS_MAX_RETRIES = 3;

export function executorDeps(env: Env): ExecutorDeps {
  return {
    db: createDb(env.DB),
    artifacts: env.ARTIFACTS,
    browser: env.BROWSER,
    signals: runTrackerClient(env.RUN_TRACKER),
    policy: urlPolicyFrom(env.PRIVATE_TARGET_ALLOWLIST),
    now: () => new Date(),
  };
}

export function crawlExecutorDeps(env: Env): CrawlExecutorDeps {
  const db = createDb(env.DB);
  return {
    afterScan: (crawl) => continueRunAfterScan({ db, jobs: env.JOBS, signals: runTrackerClient(env.RUN_TRACKER), now: () => new Date() }, crawl),
    db: createDb(env.DB),
    artifacts: env.ARTIFACTS,
    browser: env.BROWSER,
    signals: crawlTrackerClient(env.RUN_TRACKER),
    policy: urlPolicyFrom(env.PRIVATE_TARGET_ALLOWLIST),
    keys: () => keyRingFrom(env.CREDENTIAL_KEYS),
    now: () => new Date(),
  };
}

export async function consumeJobs(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const deps = executorDeps(env);
  for (const message of batch.messages) {
    const parsed = JobMessage.safeParse(message.body);
    if (!parsed.success) {
      console.error("jobs: dropping malformed message", message.id, parsed.error.issues);
      message.ack();
      continue;
    }
    const job = parsed.data;
    try {
      if (job.kind === "run") await executeRun(deps, job.id);
      else await executeCrawl(crawlExecutorDeps(env), job.id);
      message.ack();
    } catch (error) {
      console.error(`jobs: ${job.kind} failed unexpectedly`, job.id, error);
      if (message.attempts > JOBS_MAX_RETRIES) {
        const settle =
          job.kind === "run"
            ? failRun(deps, job.id, "The run failed on our side after several attempts")
            : failCrawl(crawlExecutorDeps(env), job.id, "The scan failed on our side after several attempts").then(
                (failed) => failed && crawlExecutorDeps(env).afterScan?.(failed),
              );
        await settle.catch((e) => console.error("jobs: could not settle", job.id, e));
        message.ack();
      } else {
        message.retry({ delaySeconds: 2 ** message.attempts });
      }
    }
  }
}
