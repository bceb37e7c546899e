#!/usr/bin/env node
// `npm run demo`: the main job end to end on the local stack (see scripts/demo.sh for a fresh machine):
// a CI trigger that crawls the demo site in Chromium, then runs the project's suite, and waits.
import { api, bootstrapDemo, freePort, startFixtureSite, startWorker } from "./local-stack.mjs";
import { runEdgeChecks } from "./edge-checks.mjs";
import { startWebhookReceiver } from "../test/fixtures/webhook-receiver.mjs";
import { Webhook } from "standardwebhooks";

const portArg = process.argv.indexOf("--port");
const port = portArg > 0 ? Number(process.argv[portArg + 1]) : await freePort();

const site = await startFixtureSite(0);
console.log(`demo site     ${site.origin}`);
// A receiver for the project's webhooks, as a customer would run one.
const receiver = await startWebhookReceiver(0);
let worker;
let exitCode = 0;
try {
  worker = await startWorker(port);
  console.log(`worker        ${worker.origin} (wrangler dev, local bindings)`);
  const { org, project, ciToken, suite } = await bootstrapDemo(worker.origin, site.origin);
  console.log(`organization  ${org.id}\nproject       ${project.id}\nCI token      ${ciToken.slice(0, 12)}… (shown once)`);
  const hookPath = "/hooks/ok/demo";
  const hook = await api(worker.origin, "POST", `/projects/${project.id}/webhooks`, { token: org.apiKey, body: { url: `${receiver.origin}${hookPath}`, events: ["*"] } });
  if (hook.status !== 201) throw new Error(`webhook: ${hook.status} ${hook.text}`);
  console.log(`webhook       ${hook.json.id} → ${receiver.origin}${hookPath} (secret ${hook.json.secret.slice(0, 10)}…, shown once)`);
  // crawl: true crawls the site first (fillForms: through its form too), then runs the suite.
  const body = { wait: true, crawl: true, fillForms: true };
  console.log(`trigger       POST /api/v1/ci/trigger ${JSON.stringify(body)} …`);
  const started = Date.now();
  const run = await api(worker.origin, "POST", "/ci/trigger", { token: ciToken, body });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (!run.json?.runId) throw new Error(`trigger failed: ${run.status} ${run.text}`);
  console.log(`\nHTTP ${run.status} after ${seconds} s: run ${run.json.runId} ${run.json.status.toUpperCase()}`);
  console.log(`  ${run.json.passed} passed, ${run.json.failed} failed, ${run.json.skipped} skipped (queued ${run.json.queuedMs} ms, running ${run.json.runningMs} ms)`);
  for (const r of run.json.results) {
    console.log(`  ${r.status === "passed" ? "✓" : "✗"} ${r.caseName} (${r.durationMs} ms)${r.reason ? `: ${r.reason}` : ""}`);
    for (const v of r.visual ?? []) console.log(`      screenshot "${v.step}": ${v.outcome.replace("_", " ")}`);
  }
  // The suite's screenshot step is compared in wrangler's bundle too: its first run makes the baseline.
  const shots = run.json.results.flatMap((r) => r.visual ?? []);
  if (!shots.some((v) => v.outcome === "new_baseline")) exitCode = 1;
  console.log(`run page      ${run.json.url}`);
  if (run.status !== 200) exitCode = 1;

  const crawls = await api(worker.origin, "GET", `/projects/${project.id}/crawls`, { token: ciToken });
  const crawl = crawls.json?.items?.[0] && (await api(worker.origin, "GET", `/crawls/${crawls.json.items[0].id}`, { token: ciToken })).json;
  if (!crawl) throw new Error(`no crawl found: ${crawls.status} ${crawls.text}`);
  console.log(`\ncrawl         ${crawl.id} ${crawl.status.toUpperCase()}: ${crawl.pagesVisited} pages, ${crawl.brokenLinks} broken links`);
  for (const p of crawl.pages) {
    const path = p.url.slice(site.origin.length) || "/";
    const errors = p.consoleErrors.length ? `, ${p.consoleErrors.length} console error(s): ${p.consoleErrors[0]}` : "";
    console.log(`  ${p.status ?? "—"} ${path} "${p.title}" (${p.loadMs} ms, ${p.forms.length} form(s)${errors})`);
  }
  const shot = crawl.pages.find((p) => p.screenshotUrl)?.screenshotUrl;
  if (shot) console.log(`screenshot    ${shot}`);
  // The demo site logs no errors: one here means a page function broke in wrangler's bundle
  // (names kept by esbuild's keepNames), which the vitest pool's transform does not show.
  if (crawl.status !== "completed" || crawl.pages.some((p) => p.consoleErrors.length > 0)) exitCode = 1;

  const exported = await api(worker.origin, "GET", `/suites/${suite.id}/export/playwright`, { token: ciToken });
  if (exported.status !== 200) throw new Error(`export failed: ${exported.status} ${exported.text}`);
  const { fileName, spec, sha256 } = exported.json;
  console.log(`\nplaywright    ${fileName} (${spec.split("\n").length} lines, sha256 ${sha256.slice(0, 12)}…) and playwright.config.ts`);

  // The deliveries the settled run and crawl made, verified as a receiver would, with standardwebhooks.
  const wanted = ["run.started", "crawl.completed", "run.completed"];
  const deadline = Date.now() + 20_000;
  let received = [];
  while (Date.now() < deadline) {
    received = await (await fetch(`${receiver.origin}/__received?path=${encodeURIComponent(hookPath)}`)).json();
    if (wanted.every((type) => received.some((d) => JSON.parse(d.body).type === type))) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  console.log(`\nwebhooks      ${received.length} deliveries at ${hookPath}`);
  const verifier = new Webhook(hook.json.secret);
  for (const delivery of received) {
    const event = verifier.verify(delivery.body, delivery.headers);
    console.log(`  ✓ ${event.type.padEnd(16)} ${delivery.headers["webhook-id"]}  signature verified (${event.data.status ?? ""})`);
  }
  const types = received.map((d) => JSON.parse(d.body).type);
  if (!wanted.every((type) => types.includes(type))) {
    console.error(`  missing: ${wanted.filter((type) => !types.includes(type)).join(", ")}`);
    exitCode = 1;
  }

  console.log("\nedge checks (wrangler's bundle)");
  for (const line of await runEdgeChecks(worker.origin, ciToken)) console.log(`  ✓ ${line}`);
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  exitCode = 1;
} finally {
  await worker?.stop();
  await site.close();
  await receiver.close();
}
process.exit(exitCode);
