// The deploy path, as far as it runs without a Cloudflare account: the environments of
// wrangler.toml, provisioning's plan (what its --dry-run prints), generated secrets booting the
// Worker as production and running a trigger, the misconfiguration answers, the deploy workflow,
// and the README's Deploy section kept equal to all of them.
import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import worker from "../src/index";
import { keyRingFrom, seal, unseal } from "../src/auth/secrets";
import { secretProblems } from "../src/middleware/config-check";
import { fixtureOrigin } from "./helpers/api";
import wranglerToml from "../wrangler.toml?raw";
import devVarsExample from "../.dev.vars.example?raw";
import workflowText from "../.github/workflows/deploy.yml?raw";
import readme from "../README.md?raw";
import deployDoc from "../docs/deploy.md?raw";
import {
  ARTIFACT_RETENTION_DAYS,
  PLACEHOLDER_DATABASE_ID,
  R2_LIFECYCLE,
  SECRET_NAMES,
  describePlan,
  planProvision,
  readEnvironment,
  readTables,
  withDatabaseId,
} from "../scripts/provision-plan.mjs";
import { generateSecrets, newCredentialKey } from "../scripts/secrets-generate.mjs";

const DEPLOYED = ["staging", "production"] as const;
const tables = readTables(wranglerToml);
const topLevel = (header: string) => tables.filter((t) => t.header === header).map((t) => t.values);
const environment = (name: string) => readEnvironment(wranglerToml, name);

/** The Worker as deployed to `overrides.DEPLOY_ENV`, with these secrets, on this file's local bindings. */
async function callWorker(bindings: Record<string, unknown>, method: string, path: string, options: { token?: string; body?: unknown } = {}) {
  const headers = new Headers();
  if (options.token) headers.set("authorization", `Bearer ${options.token}`);
  if (options.body !== undefined) headers.set("content-type", "application/json");
  const url = path.startsWith("http") ? path : `http://localhost${path}`;
  const request = new Request(url, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
  const response = await worker.fetch(request, bindings as unknown as Env, createExecutionContext());
  const text = await response.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, json, text };
}

const asProduction = (secrets: Record<string, string | undefined>) => ({ ...env, ...secrets, DEPLOY_ENV: "production" });

describe("wrangler.toml's environments", () => {
  it("give staging and production every binding and var of the local configuration, under their own names", () => {
    const localVars = Object.keys(Object.assign({}, ...topLevel("vars"))).sort();
    const bindingsOf = (prefix: string) => ({
      d1: tables.filter((t) => t.header === `${prefix}d1_databases`).map((t) => t.values.binding),
      queues: tables.filter((t) => t.header === `${prefix}queues.producers`).map((t) => t.values.binding),
      // Every consumer setting but the queue names, which differ by environment.
      consumers: tables
        .filter((t) => t.header === `${prefix}queues.consumers`)
        .map(({ values: { queue, dead_letter_queue, ...settings } }) => ({ queue: String(queue).replace(/-(staging|production)$/, ""), dlq: String(dead_letter_queue).replace(/-(staging|production)$/, ""), ...settings })),
      r2: tables.filter((t) => t.header === `${prefix}r2_buckets`).map((t) => t.values.binding),
      durableObjects: tables.filter((t) => t.header === `${prefix}durable_objects.bindings`).map((t) => `${t.values.name}:${t.values.class_name}`),
      browser: tables.filter((t) => t.header === `${prefix}browser`).map((t) => t.values.binding),
    });
    const local = bindingsOf("");
    expect(local.d1).toEqual(["DB"]);
    for (const name of DEPLOYED) {
      const deployed = environment(name);
      expect(bindingsOf(`env.${name}.`)).toEqual(local);
      expect(Object.keys(deployed.vars).sort()).toEqual(localVars);
      expect(deployed.vars).toMatchObject({ DEPLOY_ENV: name, PRIVATE_TARGET_ALLOWLIST: "", PUBLIC_BASE_URL: "", CORS_ALLOWED_ORIGINS: "" });
      expect(deployed.secrets).toEqual(SECRET_NAMES);
      expect(deployed.worker).toBe(`aegis-edge-${name}`);
      // Every resource is the local one's name with -<env>.
      const localNames = [
        ...topLevel("d1_databases").map((d) => d.database_name),
        ...topLevel("queues.producers").map((q) => q.queue),
        ...topLevel("queues.consumers").map((q) => q.dead_letter_queue),
        ...topLevel("r2_buckets").map((b) => b.bucket_name),
      ];
      const names = [deployed.database.name, ...deployed.queues, ...deployed.deadLetterQueues, ...deployed.buckets];
      expect(names).toEqual(localNames.map((n) => `${n}-${name}`));
    }
    expect(Object.assign({}, ...topLevel("secrets")).required).toEqual(SECRET_NAMES);
    expect(Object.assign({}, ...topLevel("vars")).DEPLOY_ENV).toBe("");
  });

  it("share no resource between staging, production and local work", () => {
    const namesOf = (e: ReturnType<typeof environment>) => [e.database.name, ...e.queues, ...e.deadLetterQueues, ...e.buckets];
    const staging = namesOf(environment("staging"));
    const production = namesOf(environment("production"));
    const local = tables.flatMap((t) => (t.header.startsWith("env.") ? [] : [t.values.database_name, t.values.queue, t.values.dead_letter_queue, t.values.bucket_name])).filter(Boolean);
    expect(staging.filter((n) => production.includes(n) || local.includes(n))).toEqual([]);
    expect(production.filter((n) => local.includes(n))).toEqual([]);
  });

  it("name every queue so the Worker's queue handler finds its consumer", async () => {
    for (const name of DEPLOYED) {
      for (const queue of environment(name).queues) {
        // A batch the consumer cannot parse is acked and dropped; a queue without a consumer throws.
        const batch = { queue, messages: [], retryAll() {}, ackAll() {} } as unknown as MessageBatch<unknown>;
        await expect(worker.queue(batch, env, createExecutionContext())).resolves.toBeUndefined();
      }
    }
    const orphan = { queue: "aegis-unknown-production", messages: [], retryAll() {}, ackAll() {} } as unknown as MessageBatch<unknown>;
    await expect(worker.queue(orphan, env, createExecutionContext())).rejects.toThrow(/no consumer/);
  });
});

describe("npm run provision", () => {
  it("plans, for --dry-run, every command that creates what production needs, reading before each", () => {
    const production = environment("production");
    const commands = describePlan(production, planProvision(production)).map((line) => line.split("    # ")[0]);
    expect(commands).toEqual([
      "npx wrangler whoami --json",
      "npx wrangler d1 list --json",
      "npx wrangler d1 create aegis-production",
      "npx wrangler d1 info aegis-production --json",
      "write its uuid as database_id of [[env.production.d1_databases]] in wrangler.toml",
      `curl -fsS -X PUT "https://api.cloudflare.com/client/v4/accounts/$CLOUDFLARE_ACCOUNT_ID/d1/database/<uuid>" -H "Authorization: Bearer $CLOUDFLARE_API_TOKEN" -H "Content-Type: application/json" -d '{"read_replication":{"mode":"auto"}}'`,
      "npx wrangler queues info aegis-jobs-production",
      "npx wrangler queues create aegis-jobs-production",
      "npx wrangler queues info aegis-notify-production",
      "npx wrangler queues create aegis-notify-production",
      "npx wrangler queues info aegis-jobs-dlq-production",
      "npx wrangler queues create aegis-jobs-dlq-production --message-retention-period-secs 1209600",
      "npx wrangler queues info aegis-notify-dlq-production",
      "npx wrangler queues create aegis-notify-dlq-production --message-retention-period-secs 1209600",
      "npx wrangler r2 bucket info aegis-artifacts-production --json",
      "npx wrangler r2 bucket create aegis-artifacts-production",
      "npx wrangler r2 bucket lifecycle set aegis-artifacts-production --file <r2-lifecycle.json> --force",
      "npx wrangler secret list --env production --format json",
    ]);
    // Every wrangler read names --json where wrangler has the flag (queues info has none).
    for (const step of planProvision(production) as { check?: string[] }[]) {
      if (step.check && step.check[0] !== "queues") expect(step.check.some((a) => a === "--json" || a === "json")).toBe(true);
    }
  });

  it("plans staging with staging's names only, and passes a location hint to what it creates", () => {
    const staging = environment("staging");
    const lines = describePlan(staging, planProvision(staging, { location: "weur" })).join("\n");
    expect(lines).not.toMatch(/production/);
    expect(lines).toContain("npx wrangler d1 create aegis-staging --location weur");
    expect(lines).toContain("npx wrangler r2 bucket create aegis-artifacts-staging --location weur");
  });

  it("writes a new D1 id into its environment's section alone, and changes no other byte", () => {
    const id = "3f2b4c1d-9e8a-4b7c-8d6e-5f4a3b2c1d0e";
    const written = withDatabaseId(wranglerToml, "production", id);
    expect(readEnvironment(written, "production").database.id).toBe(id);
    expect(readEnvironment(written, "staging").database.id).toBe(environment("staging").database.id);
    const before = wranglerToml.split("\n");
    const after = written.split("\n");
    expect(after.length).toBe(before.length);
    expect(after.filter((line, i) => line !== before[i])).toEqual([`database_id = "${id}"`]);
    // The local configuration keeps its placeholder; a second write of the same id changes nothing.
    expect(topLevel("d1_databases")[0].database_id).toBe(PLACEHOLDER_DATABASE_ID);
    expect(withDatabaseId(written, "production", id)).toBe(written);
    expect(() => withDatabaseId(wranglerToml, "production", "not-an-id")).toThrow(/not a D1 database id/);
    expect(() => readEnvironment(wranglerToml, "prod")).toThrow(/no \[env.prod\].*staging, production/);
  });

  it("sets R2 lifecycle rules that match the retention the README documents", () => {
    type Expiring = { id: string; conditions: { prefix?: string }; deleteObjectsTransition: { condition: { type: string; maxAge: number } } };
    const expiring = R2_LIFECYCLE.rules.filter((r) => "deleteObjectsTransition" in r) as unknown as Expiring[];
    expect(expiring.map((r) => [r.id, r.conditions.prefix, r.deleteObjectsTransition.condition.maxAge / 86400])).toEqual([
      ["expire-run-artifacts", "runs/", ARTIFACT_RETENTION_DAYS],
      ["expire-crawl-artifacts", "crawls/", ARTIFACT_RETENTION_DAYS],
    ]);
    const documented = [...readme.matchAll(/npx wrangler r2 bucket lifecycle add aegis-artifacts-production (\S+) (\S+) --expire-days (\d+) --force/g)];
    expect(documented.map((m) => [m[1], m[2], Number(m[3])])).toEqual(expiring.map((r) => [r.id, r.conditions.prefix, ARTIFACT_RETENTION_DAYS]));
    expect(readme.replace(/\s+/g, " ")).toContain(`deleted from R2 ${ARTIFACT_RETENTION_DAYS} days after they were written`);
    // Baselines and exports are live data: no rule may reach them.
    for (const rule of R2_LIFECYCLE.rules) {
      const prefix = rule.conditions.prefix;
      if ("deleteObjectsTransition" in rule) expect(prefix && !["baselines/", "exports/"].some((live) => live.startsWith(prefix))).toBe(true);
    }
  });

  it("creates by hand, in the README, exactly what the plan creates", () => {
    const production = environment("production");
    const creates = (planProvision(production) as { create?: string[] }[]).flatMap((step) => (step.create ? [["npx", "wrangler", ...step.create].join(" ")] : []));
    const deploySection = readme.slice(readme.indexOf("## Deploy"), readme.indexOf("## Not yet here"));
    const documented = deploySection.split("\n").filter((l) => / (d1|queues|r2 bucket) create /.test(l)).map((l) => l.split("   #")[0].trim());
    expect(documented.sort()).toEqual(creates.sort());
    expect(deploySection).toContain("npx wrangler d1 migrations apply DB --remote --env production");
    expect(deploySection).toContain("npx wrangler deploy --env production");
    for (const name of SECRET_NAMES) expect(deploySection).toContain(`npx wrangler secret put ${name} --env production`);
  });
});

describe("npm run secrets:generate", () => {
  it("makes values the production check accepts, different every time", async () => {
    const a = generateSecrets();
    const b = generateSecrets();
    expect(Object.keys(a)).toEqual(SECRET_NAMES);
    expect(await secretProblems(a)).toEqual([]);
    for (const name of SECRET_NAMES) expect(a[name as keyof typeof a]).not.toBe(b[name as keyof typeof b]);
    expect(a.ADMIN_TOKEN).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(a.CREDENTIAL_KEYS).toMatch(/^k\d{8}-[0-9a-f]{4}:[A-Za-z0-9+/]{43}=$/);
  });

  it("boots the Worker as production with them: an organization, a CI token and a trigger that passes", async () => {
    const secrets = generateSecrets();
    const production = asProduction(secrets);
    const org = await callWorker(production, "POST", "/api/v1/orgs", { token: secrets.ADMIN_TOKEN, body: { name: "Deployed", plan: "pro" } });
    expect(org.status, org.text).toBe(201);
    const project = await callWorker(production, "POST", "/api/v1/projects", { token: org.json.apiKey, body: { name: "Web", baseUrl: fixtureOrigin() } });
    expect(project.status, project.text).toBe(201);
    const token = await callWorker(production, "POST", `/api/v1/projects/${project.json.id}/tokens`, { token: org.json.apiKey, body: { name: "CI" } });
    const suite = await callWorker(production, "POST", `/api/v1/projects/${project.json.id}/suites`, { token: token.json.token, body: { name: "Smoke" } });
    await callWorker(production, "POST", `/api/v1/suites/${suite.json.id}/cases`, {
      token: token.json.token,
      body: { name: "home", steps: [{ action: "goto", url: "/" }, { action: "expectTitle", title: "Home" }] },
    });
    const run = await callWorker(production, "POST", "/api/v1/ci/trigger", { token: token.json.token, body: { wait: true } });
    expect(run.status, run.text).toBe(200);
    expect(run.json).toMatchObject({ status: "passed", passed: 1, total: 1 });
    // The run's link is signed with the generated LINK_SIGNING_SECRET: it opens there, and
    // nowhere else.
    const page = await callWorker(production, "GET", run.json.url);
    expect(page.status).toBe(200);
    expect(page.text).toContain("passed");
    const replaced = await callWorker(asProduction({ ...secrets, LINK_SIGNING_SECRET: generateSecrets().LINK_SIGNING_SECRET }), "GET", run.json.url);
    expect(replaced.status).toBe(404);
  });

  it("rotates LINK_SIGNING_SECRET as documented: the new first secret signs, the old one still opens its links until removed", async () => {
    const secrets = generateSecrets();
    const before = asProduction(secrets);
    const org = await callWorker(before, "POST", "/api/v1/orgs", { token: secrets.ADMIN_TOKEN, body: { name: "Rotating", plan: "pro" } });
    const project = await callWorker(before, "POST", "/api/v1/projects", { token: org.json.apiKey, body: { name: "Web", baseUrl: fixtureOrigin() } });
    const token = await callWorker(before, "POST", `/api/v1/projects/${project.json.id}/tokens`, { token: org.json.apiKey, body: { name: "CI" } });
    const suite = await callWorker(before, "POST", `/api/v1/projects/${project.json.id}/suites`, { token: token.json.token, body: { name: "Smoke" } });
    await callWorker(before, "POST", `/api/v1/suites/${suite.json.id}/cases`, { token: token.json.token, body: { name: "home", steps: [{ action: "goto", url: "/" }] } });
    const run = await callWorker(before, "POST", "/api/v1/ci/trigger", { token: token.json.token, body: { wait: true } });
    const oldLink: string = run.json.url;

    const fresh = generateSecrets().LINK_SIGNING_SECRET;
    const during = asProduction({ ...secrets, LINK_SIGNING_SECRET: `${fresh},${secrets.LINK_SIGNING_SECRET}` });
    expect((await callWorker(during, "GET", oldLink)).status).toBe(200);
    const newLink: string = (await callWorker(during, "GET", `/api/v1/ci/runs/${run.json.runId}`, { token: token.json.token })).json.url;
    expect(newLink).not.toBe(oldLink);
    expect((await callWorker(during, "GET", newLink)).status).toBe(200);

    const after = asProduction({ ...secrets, LINK_SIGNING_SECRET: fresh });
    expect((await callWorker(after, "GET", oldLink)).status).toBe(404);
    expect((await callWorker(after, "GET", newLink)).status).toBe(200);
    // Each secret of the list is judged: a weak one refuses to serve.
    const weak = await callWorker(asProduction({ ...secrets, LINK_SIGNING_SECRET: `${fresh},short` }), "GET", "/api/v1/projects", { token: org.json.apiKey });
    expect(weak.status).toBe(503);
    expect(weak.json.details.settings).toEqual([{ name: "LINK_SIGNING_SECRET", problem: "entry 2 is shorter than 32 characters" }]);
  });

  it("rotates CREDENTIAL_KEYS as documented: the new first key encrypts, the old one still decrypts", async () => {
    const old = newCredentialKey(new Date("2026-01-01T00:00:00Z"));
    const sealedBefore = await seal(await keyRingFrom(old), "scan password", "credential:1");
    const next = newCredentialKey();
    const ring = await keyRingFrom(`${next},${old}`);
    expect(await unseal(ring, sealedBefore, "credential:1")).toBe("scan password");
    const sealedAfter = await seal(ring, "webhook secret", "webhook:1");
    expect(sealedAfter.keyId).toBe(next.split(":")[0]);
    expect(await secretProblems({ ...generateSecrets(), CREDENTIAL_KEYS: `${next},${old}` })).toEqual([]);
    await expect(unseal(await keyRingFrom(next), sealedBefore, "credential:1")).rejects.toThrow(/no key/);
  });
});

describe("a deployed Worker with a missing or weak secret", () => {
  const strong = generateSecrets();

  it("answers 503 service.misconfigured on every route but /health, naming the setting and never its value", async () => {
    const production = asProduction({ ...strong, ADMIN_TOKEN: undefined });
    for (const [method, path] of [
      ["GET", "/api/v1/projects"],
      ["POST", "/api/v1/orgs"],
      ["GET", "/api/v1/openapi.json"],
      ["GET", "/ready"],
      ["GET", "/metrics"],
      ["GET", "/runs/00000000-0000-4000-8000-000000000000?sig=x"],
      ["GET", "/no/such/path"],
    ]) {
      const res = await callWorker(production, method, path, { token: strong.ADMIN_TOKEN });
      expect([method, path, res.status, res.json?.code]).toEqual([method, path, 503, "service.misconfigured"]);
      expect(res.json.details).toEqual({ environment: "production", settings: [{ name: "ADMIN_TOKEN", problem: "is not set" }] });
      expect(res.json.error).toMatch(/^This deployment \(production\) is misconfigured: ADMIN_TOKEN is not set\./);
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("cache-control")).toBe("no-store");
      for (const value of [strong.LINK_SIGNING_SECRET, strong.CREDENTIAL_KEYS, strong.CREDENTIAL_KEYS.split(":")[1]]) expect(res.text).not.toContain(value);
    }
    const health = await callWorker(production, "GET", "/health");
    expect(health.status).toBe(200);
    expect(health.json.status).toBe("ok");
  });

  it("is refused for each kind of weak secret, with what is wrong", async () => {
    const exampleValues = Object.fromEntries(
      devVarsExample.split("\n").filter((l) => /^[A-Z_]+=/.test(l)).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
    );
    const [keyId, material] = strong.CREDENTIAL_KEYS.split(":");
    const cases: [Record<string, string | undefined>, { name: string; problem: string }[]][] = [
      [{ ADMIN_TOKEN: exampleValues.ADMIN_TOKEN, LINK_SIGNING_SECRET: exampleValues.LINK_SIGNING_SECRET, CREDENTIAL_KEYS: exampleValues.CREDENTIAL_KEYS }, [
        { name: "ADMIN_TOKEN", problem: "is an example value published in this repository" },
        { name: "LINK_SIGNING_SECRET", problem: "is an example value published in this repository" },
        { name: "CREDENTIAL_KEYS", problem: "entry 1 is an example key published in this repository" },
      ]],
      [{ ADMIN_TOKEN: "short-but-random-Q8x2" }, [{ name: "ADMIN_TOKEN", problem: "is shorter than 32 characters" }]],
      [{ LINK_SIGNING_SECRET: "ab".repeat(20) }, [{ name: "LINK_SIGNING_SECRET", problem: "has fewer than 10 distinct characters" }]],
      [{ LINK_SIGNING_SECRET: strong.ADMIN_TOKEN }, [{ name: "LINK_SIGNING_SECRET", problem: "is the same value as ADMIN_TOKEN" }]],
      [{ LINK_SIGNING_SECRET: "   " }, [{ name: "LINK_SIGNING_SECRET", problem: "is not set" }]],
      [{ CREDENTIAL_KEYS: "" }, [{ name: "CREDENTIAL_KEYS", problem: "is not set" }]],
      [{ CREDENTIAL_KEYS: material }, [{ name: "CREDENTIAL_KEYS", problem: "entry 1 is not keyId:base64(32 bytes) (entries are comma-separated)" }]],
      [{ CREDENTIAL_KEYS: `${strong.CREDENTIAL_KEYS},${keyId}:${btoa("sixteen bytes!!!")}` }, [{ name: "CREDENTIAL_KEYS", problem: "entry 2 is not keyId:base64(32 bytes) (entries are comma-separated)" }]],
      [{ CREDENTIAL_KEYS: `${keyId}:not*base64` }, [{ name: "CREDENTIAL_KEYS", problem: "entry 1 is not keyId:base64(32 bytes) (entries are comma-separated)" }]],
      [{ CREDENTIAL_KEYS: `${strong.CREDENTIAL_KEYS},${keyId}:${generateSecrets().CREDENTIAL_KEYS.split(":")[1]}` }, [{ name: "CREDENTIAL_KEYS", problem: "entry 2 repeats the key id of entry 1" }]],
      [{ CREDENTIAL_KEYS: `${strong.CREDENTIAL_KEYS},` }, []],
    ];
    for (const [change, expected] of cases) {
      const res = await callWorker(asProduction({ ...strong, ...change }), "GET", "/api/v1/projects");
      if (expected.length === 0) {
        expect(res.status).toBe(401); // configured: on to authentication
        continue;
      }
      expect([change, res.status, res.json.details.settings]).toEqual([change, 503, expected]);
      for (const value of Object.values(change)) if (value && value.trim().length > 3) expect(res.text).not.toContain(value);
    }
  });

  it("is served as before in staging with strong secrets, and locally (DEPLOY_ENV empty) with the test ones", async () => {
    const staging = await callWorker({ ...env, ...strong, DEPLOY_ENV: "staging" }, "GET", "/ready");
    expect(staging.status).toBe(200);
    const local = await callWorker({ ...env, DEPLOY_ENV: "" }, "GET", "/ready");
    expect(local.status).toBe(200);
    expect(env.ADMIN_TOKEN.length).toBeLessThan(32); // the tests' own secret is weak, and allowed here
    const refused = await callWorker({ ...env, DEPLOY_ENV: "staging" }, "GET", "/ready");
    expect([refused.status, refused.json.details.settings.map((s: { name: string }) => s.name)]).toEqual([503, SECRET_NAMES]);
  });
});

describe("the deploy workflow", () => {
  const workflow = parseYaml(workflowText);
  const steps: { name?: string; uses?: string; run?: string; with?: Record<string, string>; id?: string; if?: string }[] = workflow.jobs.deploy.steps;

  it("parses, deploys staging on a push to main and production only by hand", () => {
    expect(workflow.on.push.branches).toEqual(["main"]);
    expect(workflow.on.workflow_dispatch.inputs.environment.options).toEqual([...DEPLOYED]);
    expect(workflow.on.workflow_dispatch.inputs.environment.default).toBe("staging");
    expect(workflow.jobs.deploy.env.TARGET).toBe("${{ inputs.environment || 'staging' }}");
    expect(workflow.permissions).toEqual({ contents: "read" });
    expect(workflow.concurrency["cancel-in-progress"]).toBe(false);
    for (const step of steps) expect(Boolean(step.uses) !== Boolean(step.run)).toBe(true);
    // Expressions are closed, and name only contexts that exist in a workflow.
    for (const expression of workflowText.matchAll(/\$\{\{(.*?)\}\}/g)) expect(expression[1].trim()).toMatch(/^(inputs|secrets|env|steps)\./);
    // Production runs main's code only; a run by hand on another branch stops at the first step.
    expect(steps[0]).toMatchObject({ if: "env.TARGET == 'production' && github.ref != 'refs/heads/main'" });
    expect(steps[0].run).toMatch(/exit 1/);
    expect(workflowText.split("${{").length).toBe(workflowText.split("}}").length);
  });

  it("applies the migrations with wrangler-action before the new code goes live, then checks /ready", () => {
    const wranglerSteps = steps.filter((s) => s.uses?.startsWith("cloudflare/wrangler-action@"));
    expect(wranglerSteps.map((s) => s.uses)).toEqual(["cloudflare/wrangler-action@v3", "cloudflare/wrangler-action@v3"]);
    expect(wranglerSteps.map((s) => s.with!.command)).toEqual([
      "d1 migrations apply DB --remote --env ${{ env.TARGET }}",
      "deploy --env ${{ env.TARGET }}",
    ]);
    const order = (match: (s: (typeof steps)[number]) => boolean) => steps.findIndex(match);
    const install = order((s) => s.run === "npm ci");
    const check = order((s) => s.run?.includes("scripts/provision.mjs --env \"$TARGET\" --check") ?? false);
    const migrate = order((s) => s.with?.command?.startsWith("d1 migrations apply") ?? false);
    const deploy = order((s) => s.with?.command?.startsWith("deploy") ?? false);
    const ready = order((s) => s.run?.includes('"$URL/ready"') ?? false);
    expect([install, check, migrate, deploy, ready].every((i) => i >= 0)).toBe(true);
    expect([install, check, migrate, deploy, ready]).toEqual([...[install, check, migrate, deploy, ready]].sort((a, b) => a - b));
    const node = steps.find((s) => s.uses?.startsWith("actions/setup-node@"));
    expect(Number(node?.with?.["node-version"])).toBeGreaterThanOrEqual(22);
    // Every wrangler command names the environment: none can fall back to the local configuration.
    for (const line of workflowText.split("\n").filter((l) => /wrangler (deploy|d1)|command: (deploy|d1)/.test(l))) expect(line).toMatch(/--env /);
  });

  it("uses only the secrets the README and docs/deploy.md document", () => {
    const used = [...new Set([...workflowText.matchAll(/secrets\.([A-Z_]+)/g)].map((m) => m[1]))].sort();
    expect(used).toEqual(["CLOUDFLARE_ACCOUNT_ID", "CLOUDFLARE_API_TOKEN"]);
    const deploySection = readme.slice(readme.indexOf("## Deploy"), readme.indexOf("## Not yet here"));
    for (const name of used) {
      expect(deploySection).toContain(`\`${name}\``);
      expect(deployDoc).toContain(`\`${name}\``);
    }
  });
});
