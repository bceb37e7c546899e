#!/usr/bin/env node
// `npm run provision -- --env production [--location weur] [--dry-run]`: creates what one deployed
// environment of wrangler.toml needs and is missing (D1 database, queues and their dead-letter
// queues, R2 bucket and its lifecycle rules, D1 read replication), writes the D1 id into that
// environment's section of wrangler.toml, and says which secrets are not set yet. Run it again at
// any time: it reads before it creates. It learns state from wrangler's JSON (--json) where wrangler
// has it, else from the exit status of a read-only command; it never reads wrangler's tables.
//   --dry-run       print every command it would run, run none, change nothing
//   --check         only check wrangler.toml: fail while the environment's D1 id is the placeholder
//   --location L    location hint for a new D1 database and R2 bucket (weur, eeur, apac, oc, wnam, enam)
//   --config PATH   another wrangler.toml (default: the repository's)
// AEGIS_PROVISION_WRANGLER=<script> runs that script in wrangler's place (scripts/provision-selftest.mjs).
// Read replication needs CLOUDFLARE_API_TOKEN (D1 edit) in the environment: wrangler has no command
// for it. Without one, the script prints the request to make and exits 2.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  LIFECYCLE_FILE,
  PLACEHOLDER_DATABASE_ID,
  commandLine,
  curlOf,
  describePlan,
  planProvision,
  readEnvironment,
  readReplicationRequest,
  withDatabaseId,
} from "./provision-plan.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
let configPath = join(root, "wrangler.toml");
let configArgs = [];

function parseArgs(argv) {
  const options = { dryRun: false, check: false, env: undefined, location: undefined, config: undefined };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--dry-run") options.dryRun = true;
    else if (arg === "--check") options.check = true;
    else if (arg === "--env" || arg === "-e") options.env = argv[++i];
    else if (arg.startsWith("--env=")) options.env = arg.slice(6);
    else if (arg === "--location") options.location = argv[++i];
    else if (arg.startsWith("--location=")) options.location = arg.slice(11);
    else if (arg === "--config" || arg === "-c") options.config = argv[++i];
    else throw new Error(`unknown argument ${arg}`);
  }
  if (!options.env) throw new Error("say which environment: --env staging or --env production");
  return options;
}

/**
 * Runs wrangler (the project's own, under the Node 22 that npm put first on PATH). A check's output
 * is captured: a read that finds nothing is an answer here, not an error to show.
 */
function wrangler(args, { capture }) {
  const bin = process.env.AEGIS_PROVISION_WRANGLER || createRequire(import.meta.url).resolve("wrangler/bin/wrangler.js");
  const result = spawnSync(process.execPath, [bin, ...args, ...configArgs], {
    cwd: root,
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
    stdio: capture ? ["inherit", "pipe", "pipe"] : "inherit",
    encoding: "utf8",
  });
  if (result.error) throw result.error;
  return { ok: result.status === 0, stdout: result.stdout ?? "", stderr: result.stderr ?? "" };
}

/** A read-only command's JSON answer, or undefined when it failed (`required`: then stop, showing why). */
function json(args, { required = false } = {}) {
  console.log(`$ ${commandLine(args)}`);
  const { ok, stdout, stderr } = wrangler(args, { capture: true });
  if (!ok) {
    if (required) throw new Error(`${commandLine(args)} failed:\n${stderr}${stdout}`);
    return undefined;
  }
  try {
    return JSON.parse(stdout);
  } catch {
    throw new Error(`${commandLine(args)} did not answer JSON:\n${stdout}`);
  }
}

/** Whether a read-only command succeeds, i.e. the thing it asks about exists. */
function exists(args) {
  console.log(`$ ${commandLine(args)}`);
  return wrangler(args, { capture: true }).ok;
}

function run(args) {
  console.log(`$ ${commandLine(args)}`);
  if (!wrangler(args, { capture: false }).ok) throw new Error(`${commandLine(args)} failed`);
}

/** Answers what is left for a person: steps that could not be done here (exit 2), and next steps. */
async function provision(env, options) {
  const left = [];
  const next = [];
  const steps = planProvision(env, options);
  let accountId = process.env.CLOUDFLARE_ACCOUNT_ID;
  for (const step of steps) {
    switch (step.kind) {
      case "account": {
        const who = json(step.check, { required: true });
        if (!who?.loggedIn) throw new Error("wrangler is not logged in: run `npx wrangler login`, or set CLOUDFLARE_API_TOKEN");
        const accounts = who.accounts ?? [];
        if (!accountId && accounts.length > 1) {
          // wrangler would ask which one, on an output this script captures: the question would not show.
          throw new Error(`this login reaches ${accounts.length} accounts: set CLOUDFLARE_ACCOUNT_ID to one of ${accounts.map((a) => `${a.id} (${a.name})`).join(", ")}`);
        }
        if (!accountId && accounts.length === 1) accountId = accounts[0].id;
        if (accountId) process.env.CLOUDFLARE_ACCOUNT_ID = accountId;
        break;
      }
      case "database": {
        const all = json(step.check, { required: true });
        if (!Array.isArray(all)) throw new Error("d1 list did not answer a list");
        if (!all.some((db) => db.name === step.name)) run(step.create);
        else console.log(`  D1 database ${step.name} is there`);
        const info = json(step.read, { required: true });
        if (!info?.uuid) throw new Error(`d1 info ${step.name} answered no uuid`);
        const text = readFileSync(configPath, "utf8");
        if (readEnvironment(text, env.envName).database.id !== info.uuid) {
          writeFileSync(configPath, withDatabaseId(text, env.envName, info.uuid));
          console.log(`  wrote database_id = "${info.uuid}" into [[env.${env.envName}.d1_databases]] of wrangler.toml: commit it`);
        }
        step.uuid = info.uuid;
        step.replication = info.read_replication?.mode;
        break;
      }
      case "read-replication": {
        const database = steps.find((s) => s.kind === "database");
        if (database.replication === "auto") {
          console.log(`  read replication of ${step.name} is on`);
          break;
        }
        const token = process.env.CLOUDFLARE_API_TOKEN;
        if (!token || !accountId) {
          const request = readReplicationRequest(accountId ?? "$CLOUDFLARE_ACCOUNT_ID", database.uuid);
          left.push(`turn on D1 read replication of ${step.name} (or in the dashboard: D1 → ${step.name} → Settings):\n    ${curlOf(request)}`);
          break;
        }
        const request = readReplicationRequest(accountId, database.uuid);
        console.log(`$ ${request.method} ${request.url} ${JSON.stringify(request.body)}`);
        const response = await fetch(request.url, {
          method: request.method,
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: JSON.stringify(request.body),
        });
        const answer = await response.json().catch(() => ({}));
        if (!response.ok || answer.result?.read_replication?.mode !== "auto") {
          throw new Error(`turning on read replication failed (${response.status}): ${JSON.stringify(answer.errors ?? answer)}`);
        }
        break;
      }
      case "queue":
      case "bucket":
        if (exists(step.check)) console.log(`  ${step.kind} ${step.name} is there`);
        else {
          console.log(`  ${step.kind} ${step.name} is not there: creating it`);
          run(step.create);
        }
        break;
      case "lifecycle": {
        const dir = mkdtempSync(join(tmpdir(), "aegis-provision-"));
        const file = join(dir, "r2-lifecycle.json");
        try {
          writeFileSync(file, JSON.stringify(step.rules, null, 2));
          run(step.run.map((a) => (a === LIFECYCLE_FILE ? file : a)));
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
        break;
      }
      case "secrets": {
        // The Worker does not exist before its first `secret put` or deploy: then none is set.
        const set = json(step.check) ?? [];
        const missing = step.names.filter((name) => !set.some((s) => s.name === name));
        if (missing.length) {
          next.push(
            `set ${missing.join(", ")} (values: npm run -s secrets:generate):\n` +
              missing.map((name) => `    npx wrangler secret put ${name} --env ${env.envName}`).join("\n"),
          );
        } else console.log(`  secrets ${step.names.join(", ")} are set`);
        break;
      }
    }
  }
  return { left, next };
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  if (options.config) {
    configPath = resolve(options.config);
    configArgs = ["--config", configPath];
  }
  const env = readEnvironment(readFileSync(configPath, "utf8"), options.env);
  if (options.check) {
    if (env.database.id === PLACEHOLDER_DATABASE_ID) {
      console.error(`wrangler.toml: [[env.${env.envName}.d1_databases]] still has the placeholder id; run \`npm run provision -- --env ${env.envName}\` and commit wrangler.toml`);
      process.exit(1);
    }
    console.log(`wrangler.toml: ${env.envName} uses D1 database ${env.database.name} (${env.database.id})`);
    return;
  }
  if (options.dryRun) {
    console.log(`provision ${env.envName}, dry run: nothing below is run and nothing changes`);
    for (const line of describePlan(env, planProvision(env, options))) console.log(line);
    return;
  }
  const { left, next } = await provision(env, options);
  next.push(`apply the migrations: npx wrangler d1 migrations apply DB --remote --env ${env.envName}`);
  next.push(`deploy: npx wrangler deploy --env ${env.envName}`);
  const list = (items) => items.map((item) => `  - ${item}`).join("\n");
  if (left.length) console.log(`\n${env.envName}: not done, left for you:\n${list(left)}`);
  console.log(`\n${env.envName}: next steps (README "Deploy"):\n${list(next)}`);
  if (left.length) process.exit(2);
}

main().catch((error) => {
  console.error(`provision: ${error.message}`);
  process.exit(1);
});
