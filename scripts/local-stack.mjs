// The local stack used by the demo and the benchmarks: the fixture site on 127.0.0.1 and the
// Worker under `wrangler dev` (local D1, R2, Queues, Durable Objects, Browser Rendering).
import { spawn } from "node:child_process";
import { readFileSync, existsSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { createServer } from "node:net";
import { startFixtureSite } from "../test/fixtures/site.mjs";
import { stopLocalBrowsers } from "./stop-local-browsers.mjs";

export const root = join(dirname(fileURLToPath(import.meta.url)), "..");

export function devVar(name) {
  const file = join(root, existsSync(join(root, ".dev.vars")) ? ".dev.vars" : ".dev.vars.example");
  const line = readFileSync(file, "utf8").split("\n").find((l) => l.startsWith(`${name}=`));
  return line?.slice(name.length + 1).trim();
}

export async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function startWorker(port, { quiet = true } = {}) {
  // This worker's browsers are recorded apart, so stop() ends them and nobody else's.
  const browserPids = join(root, ".wrangler", `browser-pids-dev-${port}`);
  const child = spawn(join(root, "node_modules", ".bin", "wrangler"), ["dev", "--port", String(port), "--ip", "127.0.0.1"], {
    cwd: root,
    env: {
      ...process.env,
      AEGIS_BROWSER_PIDS: browserPids,
      WRANGLER_SEND_METRICS: "false",
      PATH: `${join(root, "node_modules", ".bin")}:${process.env.PATH}`,
    },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let log = "";
  child.stdout.on("data", (d) => (log += d));
  child.stderr.on("data", (d) => (log += d));
  if (!quiet) child.stdout.pipe(process.stdout);
  const origin = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null) {
      try {
        process.kill(-child.pid, "SIGINT");
      } catch {}
      const exited = await Promise.race([
        new Promise((r) => child.once("exit", () => r(true))),
        new Promise((r) => setTimeout(() => r(false), 8000)),
      ]);
      if (!exited) {
        try {
          process.kill(-child.pid, "SIGKILL");
        } catch {}
      }
    }
    stopLocalBrowsers(browserPids);
  };
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited early:\n${log}`);
    try {
      const res = await fetch(`${origin}/health`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`wrangler dev did not start within 90 s:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  return { origin, log: () => log, stop };
}

export { startFixtureSite };

export async function api(origin, method, path, { token, body } = {}) {
  const res = await fetch(`${origin}/api/v1${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: res.status, json, text };
}

async function must(promise, expected, what) {
  const res = await promise;
  if (res.status !== expected) throw new Error(`${what}: expected ${expected}, got ${res.status} ${res.text}`);
  return res.json;
}

/** Creates an organization, a project on `siteOrigin`, a CI token, and a demo suite. */
export async function bootstrapDemo(origin, siteOrigin, { plan = "business" } = {}) {
  const admin = devVar("ADMIN_TOKEN");
  const org = await must(api(origin, "POST", "/orgs", { token: admin, body: { name: "Demo org", plan } }), 201, "create org");
  const project = await must(
    api(origin, "POST", "/projects", { token: org.apiKey, body: { name: "Demo site", baseUrl: siteOrigin } }),
    201,
    "create project",
  );
  const ci = await must(api(origin, "POST", `/projects/${project.id}/tokens`, { token: org.apiKey, body: { name: "demo CI" } }), 201, "create token");
  const suite = await must(api(origin, "POST", `/projects/${project.id}/suites`, { token: ci.token, body: { name: "Smoke" } }), 201, "create suite");
  const cases = [
    {
      name: "home page greets and links to About",
      steps: [
        { action: "goto", url: "/" },
        { action: "expectTitle", title: "Home" },
        { action: "expectVisible", target: { role: "heading", name: "Welcome" } },
        { action: "expectNoConsoleErrors" },
        { action: "expectNoBrokenLinks" },
        { action: "click", target: { role: "link", name: "About" } },
        { action: "expectUrl", url: "/about" },
        { action: "screenshot", name: "about" },
      ],
    },
    {
      name: "the form reaches the thank-you page",
      steps: [
        { action: "goto", url: "/" },
        { action: "fill", target: { label: "Email" }, value: "a@example.com" },
        { action: "select", target: { label: "Country" }, value: "de" },
        { action: "check", target: { label: "Accept terms" } },
        { action: "click", target: { role: "button", name: "Submit" } },
        { action: "expectText", target: { css: "#summary" }, text: "a@example.com from de; terms accepted" },
      ],
    },
  ];
  for (const c of cases) await must(api(origin, "POST", `/suites/${suite.id}/cases`, { token: ci.token, body: c }), 201, "create case");
  return { org, project, ciToken: ci.token, suite };
}
