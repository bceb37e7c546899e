// The JOBS queue: each message names one unit of browser work by id. Messages are validated
// (anything malformed is acked and logged, never retried forever); an unexpected failure is
// retried, and on the last attempt the work is settled (a run as `error`, a crawl as `failed`)
// through its lifecycle, so every settled listener hears of it and no caller waits forever.
import { JobMessage } from "../schemas/messages";
import type { ServiceDeps } from "../services/deps";
import { executeRun } from "../services/run-executor";
import { executeCrawl } from "../services/crawl-executor";
import { failRun } from "../services/run-lifecycle";
import { failCrawl } from "../services/crawl-lifecycle";

/** Keep in step with max_retries of the JOBS consumer in wrangler.toml. */
export const JOBS_MAX_RETRIES = 3;

const EXECUTE = { run: executeRun, crawl: executeCrawl } as const;
const GIVE_UP = {
  run: (deps: ServiceDeps, id: string) => failRun(deps, id, "The run failed on our side after several attempts"),
  crawl: (deps: ServiceDeps, id: string) => failCrawl(deps, id, "The crawl failed on our side after several attempts"),
} as const;

export async function consumeJobs(batch: MessageBatch<unknown>, depsFor: () => ServiceDeps): Promise<void> {
  const deps = depsFor();
  for (const message of batch.messages) {
    const parsed = JobMessage.safeParse(message.body);
    if (!parsed.success) {
      console.error("jobs: dropping malformed message", message.id, parsed.error.issues);
      message.ack();
      continue;
    }
    const job = parsed.data;
    try {
      await EXECUTE[job.kind](deps, job.id);
      message.ack();
    } catch (error) {
      console.error(`jobs: ${job.kind} failed unexpectedly`, job.id, error);
      if (message.attempts > JOBS_MAX_RETRIES) {
        await GIVE_UP[job.kind](deps, job.id).catch((e) => console.error("jobs: could not settle", job.id, e));
        message.ack();
      } else {
        message.retry({ delaySeconds: 2 ** message.attempts });
      }
    }
  }
}
