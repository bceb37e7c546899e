// 6. Webhooks: the time from a run settling (its `finishedAt`) to its run.completed delivery reaching
// a local receiver, over REPEATS runs, next to the same runs' queuedMs (trigger → start: the JOBS
// queue's hop, the baseline), and the D1 round trips each delivery attempt made, read from the
// Worker's own log line `{"event": "webhook.attempt", "d1Queries": n}` (queue/notify-consumer.ts).
// Run alone: `node bench/webhook-bench.mjs` (starts its own wrangler dev and demo site).
import { startWebhookReceiver } from "../test/fixtures/webhook-receiver.mjs";
import { api, bootstrapDemo, freePort, startFixtureSite, startWorker } from "../scripts/local-stack.mjs";

const REPEATS = 10;
const HOOK_PATH = "/hooks/ok/bench";

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};

export async function measureWebhooks({ origin, orgKey, ciToken, projectId, suiteId, workerLog, log = () => {} }) {
  const receiver = await startWebhookReceiver(0);
  try {
    const hook = await api(origin, "POST", `/projects/${projectId}/webhooks`, { token: orgKey, body: { url: `${receiver.origin}${HOOK_PATH}`, events: ["run.completed"] } });
    if (hook.status !== 201) throw new Error(`create webhook: HTTP ${hook.status} ${hook.text}`);
    const samples = [];
    for (let i = 0; i < REPEATS; i++) {
      const run = await api(origin, "POST", `/suites/${suiteId}/run`, { token: ciToken, body: { wait: true } });
      if (!run.json?.runId) throw new Error(`run: HTTP ${run.status} ${run.text}`);
      const deadline = Date.now() + 30_000;
      let delivery;
      while (!delivery && Date.now() < deadline) {
        const received = await (await fetch(`${receiver.origin}/__received?path=${encodeURIComponent(HOOK_PATH)}`)).json();
        delivery = received.find((d) => JSON.parse(d.body).data.runId === run.json.runId);
        if (!delivery) await new Promise((r) => setTimeout(r, 20));
      }
      if (!delivery) throw new Error(`no webhook for run ${run.json.runId} within 30 s`);
      samples.push({ settledToDeliveredMs: delivery.receivedAt - Date.parse(run.json.finishedAt), queuedMs: run.json.queuedMs });
    }
    log(`${REPEATS} runs delivered by webhook`);
    const attempts = workerLog()
      .split("\n")
      .filter((line) => line.includes('"event":"webhook.attempt"'))
      .map((line) => JSON.parse(line.slice(line.indexOf("{"))));
    const mine = attempts.filter((a) => a.attempt === 1).slice(-REPEATS);
    return {
      samples,
      settledToDeliveredMedianMs: median(samples.map((s) => s.settledToDeliveredMs)),
      queuedMedianMs: median(samples.map((s) => s.queuedMs)),
      d1QueriesPerAttempt: mine.length ? median(mine.map((a) => a.d1Queries)) : null,
      attemptsLogged: mine.length,
    };
  } finally {
    await receiver.close();
  }
}

export function printWebhooks(w) {
  console.log(`\n6. Webhooks: run settled (finishedAt) → run.completed at a local receiver, ${w.samples.length} runs`);
  console.log(`   median ${w.settledToDeliveredMedianMs} ms; baseline: the same runs' trigger → start (one JOBS queue hop) median ${w.queuedMedianMs} ms`);
  console.log(`   ratio (webhook hop / JOBS hop) ${(w.settledToDeliveredMedianMs / w.queuedMedianMs).toFixed(2)}`);
  console.log(`   D1 round trips per delivery attempt (Worker's log, median of ${w.attemptsLogged}): ${w.d1QueriesPerAttempt}`);
  console.log("   The webhook hop is the settled listener (stores the message, reads the run), a NOTIFY queue hop (max_batch_timeout = 0) and the");
  console.log("   attempt itself; the JOBS hop is the queue alone. With NOTIFY's max_batch_timeout at 1 s (before) the median was 1032 ms.");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const site = await startFixtureSite(0);
  const worker = await startWorker(await freePort());
  try {
    const { org, project, ciToken, suite } = await bootstrapDemo(worker.origin, site.origin);
    const result = await measureWebhooks({
      origin: worker.origin, orgKey: org.apiKey, ciToken, projectId: project.id, suiteId: suite.id, workerLog: worker.log, log: (l) => console.error(l),
    });
    printWebhooks(result);
    console.log(JSON.stringify(result));
  } finally {
    await worker.stop();
    await site.close();
  }
}
