#!/usr/bin/env node
// `npm run demo`: the main job end to end on the local stack (see scripts/demo.sh for a fresh machine).
import { api, bootstrapDemo, freePort, startFixtureSite, startWorker } from "./local-stack.mjs";

const portArg = process.argv.indexOf("--port");
const port = portArg > 0 ? Number(process.argv[portArg + 1]) : await freePort();

const site = await startFixtureSite(0);
console.log(`demo site     ${site.origin}`);
let worker;
let exitCode = 0;
try {
  worker = await startWorker(port);
  console.log(`worker        ${worker.origin} (wrangler dev, local bindings)`);
  const { org, project, ciToken } = await bootstrapDemo(worker.origin, site.origin);
  console.log(`organization  ${org.id}\nproject       ${project.id}\nCI token      ${ciToken.slice(0, 12)}… (shown once)`);
  console.log("trigger       POST /api/v1/ci/trigger {\"wait\": true} …");
  const started = Date.now();
  const run = await api(worker.origin, "POST", "/ci/trigger", { token: ciToken, body: { wait: true } });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (!run.json?.runId) throw new Error(`trigger failed: ${run.status} ${run.text}`);
  console.log(`\nHTTP ${run.status} after ${seconds} s: run ${run.json.runId} ${run.json.status.toUpperCase()}`);
  console.log(`  ${run.json.passed} passed, ${run.json.failed} failed, ${run.json.skipped} skipped (queued ${run.json.queuedMs} ms, running ${run.json.runningMs} ms)`);
  for (const r of run.json.results) console.log(`  ${r.status === "passed" ? "✓" : "✗"} ${r.caseName} (${r.durationMs} ms)${r.reason ? `: ${r.reason}` : ""}`);
  console.log(`run page      ${run.json.url}`);
  if (run.status !== 200) exitCode = 1;
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  exitCode = 1;
} finally {
  await worker?.stop();
  await site.close();
}
process.exit(exitCode);
