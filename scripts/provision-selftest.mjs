// `node --test scripts/provision-selftest.mjs`: runs scripts/provision.mjs for real against a stand-in
// for wrangler that keeps an account's state in a JSON file (no Cloudflare account is reachable
// from CI), on a copy of wrangler.toml. It checks that a first run creates everything and writes
// the D1 id into its environment alone, that a second run creates nothing, and that --dry-run
// runs no wrangler command and changes no file. Node, not workerd: the script starts processes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { R2_LIFECYCLE, readEnvironment } from "./provision-plan.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

// The stand-in: answers as wrangler does (JSON for --json reads, exit status 1 for a missing
// thing), records every call. Its state file is named by AEGIS_FAKE_STATE.
const FAKE_WRANGLER = `
import { readFileSync, writeFileSync } from "node:fs";
import { randomUUID } from "node:crypto";
const file = process.env.AEGIS_FAKE_STATE;
const state = JSON.parse(readFileSync(file, "utf8"));
let args = process.argv.slice(2);
const c = args.indexOf("--config");
if (c >= 0) args.splice(c, 2);
state.calls.push(args.join(" "));
const save = () => writeFileSync(file, JSON.stringify(state));
const out = (value) => { console.log(JSON.stringify(value)); save(); process.exit(0); };
const fail = (message) => { console.error(message); save(); process.exit(1); };
const [a, b, c2, d] = args;
const key = args.slice(0, 2).join(" ");
if (key === "whoami --json") out({ loggedIn: true, accounts: state.accounts });
else if (key === "d1 list") out(state.d1);
else if (key === "d1 create") { state.d1.push({ uuid: randomUUID(), name: c2 }); save(); console.log("created"); }
else if (key === "d1 info") { const db = state.d1.find((x) => x.name === c2); db ? out({ ...db, read_replication: { mode: state.replication[db.name] ?? "disabled" } }) : fail("no such database"); }
else if (key === "queues info") state.queues.includes(c2) ? out("") : fail("Queue does not exist");
else if (key === "queues create") { state.queues.push(c2); save(); }
else if (key === "r2 bucket" && c2 === "info") state.buckets.includes(d) ? out({ name: d }) : fail("bucket not found");
else if (key === "r2 bucket" && c2 === "create") { state.buckets.push(d); save(); }
else if (key === "r2 bucket" && c2 === "lifecycle") { state.lifecycle[args[4]] = JSON.parse(readFileSync(args[args.indexOf("--file") + 1], "utf8")); save(); }
else if (key === "secret list") state.workerExists ? out([{ name: "ADMIN_TOKEN", type: "secret_text" }]) : fail("This Worker does not exist");
else fail("the stand-in does not know: " + args.join(" "));
`;

function setUp() {
  const dir = mkdtempSync(join(tmpdir(), "aegis-provision-selftest-"));
  writeFileSync(join(dir, "fake-wrangler.mjs"), FAKE_WRANGLER);
  copyFileSync(join(root, "wrangler.toml"), join(dir, "wrangler.toml"));
  const stateFile = join(dir, "state.json");
  writeFileSync(stateFile, JSON.stringify({ calls: [], accounts: [{ id: "account-1", name: "Acme" }], d1: [], queues: [], buckets: [], lifecycle: {}, replication: {}, workerExists: false }));
  const state = () => JSON.parse(readFileSync(stateFile, "utf8"));
  const setState = (change) => writeFileSync(stateFile, JSON.stringify({ ...state(), ...change }));
  const provision = (...args) => {
    const env = { ...process.env, AEGIS_PROVISION_WRANGLER: join(dir, "fake-wrangler.mjs"), AEGIS_FAKE_STATE: stateFile };
    delete env.CLOUDFLARE_API_TOKEN;
    delete env.CLOUDFLARE_ACCOUNT_ID;
    const result = spawnSync(process.execPath, [join(root, "scripts", "provision.mjs"), "--config", join(dir, "wrangler.toml"), ...args], { env, encoding: "utf8" });
    return { status: result.status, output: result.stdout + result.stderr };
  };
  const toml = () => readFileSync(join(dir, "wrangler.toml"), "utf8");
  return { dir, state, setState, provision, toml, done: () => rmSync(dir, { recursive: true, force: true }) };
}

test("a first run creates every resource, writes the D1 id into its environment alone, and says what is left", () => {
  const t = setUp();
  try {
    const before = t.toml();
    const first = t.provision("--env", "production");
    assert.equal(first.status, 2, first.output); // read replication needs an API token: left for a person
    const state = t.state();
    const production = readEnvironment(t.toml(), "production");
    assert.deepEqual(state.d1.map((d) => d.name), ["aegis-production"]);
    assert.equal(production.database.id, state.d1[0].uuid);
    assert.equal(readEnvironment(t.toml(), "staging").database.id, readEnvironment(before, "staging").database.id);
    const changed = t.toml().split("\n").filter((line, i) => line !== before.split("\n")[i]);
    assert.deepEqual(changed, [`database_id = "${state.d1[0].uuid}"`]);
    assert.deepEqual(state.queues.sort(), [...production.queues, ...production.deadLetterQueues].sort());
    assert.deepEqual(state.buckets, ["aegis-artifacts-production"]);
    assert.deepEqual(state.lifecycle["aegis-artifacts-production"], R2_LIFECYCLE);
    assert.ok(state.calls.includes("queues create aegis-jobs-dlq-production --message-retention-period-secs 1209600"));
    assert.match(first.output, /curl -fsS -X PUT "https:\/\/api\.cloudflare\.com\/client\/v4\/accounts\/account-1\/d1\/database\/[0-9a-f-]{36}"/);
    for (const name of ["ADMIN_TOKEN", "LINK_SIGNING_SECRET", "CREDENTIAL_KEYS"]) {
      assert.ok(first.output.includes(`npx wrangler secret put ${name} --env production`), name);
    }
  } finally {
    t.done();
  }
});

test("a second run creates nothing and changes no file", () => {
  const t = setUp();
  try {
    t.provision("--env", "production");
    const written = t.toml();
    t.setState({ calls: [], replication: { "aegis-production": "auto" }, workerExists: true });
    const second = t.provision("--env", "production");
    assert.equal(second.status, 0, second.output);
    assert.equal(t.toml(), written);
    const calls = t.state().calls;
    assert.deepEqual(calls.filter((c) => / create /.test(c)), []);
    // The lifecycle rules are set again (the same rules): the one write a second run makes.
    assert.deepEqual(calls.filter((c) => !/ (info|list)\b|^whoami/.test(c)).map((c) => c.split(" --file")[0]), ["r2 bucket lifecycle set aegis-artifacts-production"]);
    assert.match(second.output, /set LINK_SIGNING_SECRET, CREDENTIAL_KEYS/);
  } finally {
    t.done();
  }
});

test("--dry-run runs no wrangler command and changes no file", () => {
  const t = setUp();
  try {
    const before = t.toml();
    const dry = t.provision("--env", "staging", "--dry-run");
    assert.equal(dry.status, 0, dry.output);
    assert.deepEqual(t.state().calls, []);
    assert.equal(t.toml(), before);
    assert.match(dry.output, /npx wrangler d1 create aegis-staging/);
    assert.doesNotMatch(dry.output, /production/);
  } finally {
    t.done();
  }
});

test("a login that reaches several accounts stops before anything is created, asking for CLOUDFLARE_ACCOUNT_ID", () => {
  const t = setUp();
  try {
    t.setState({ accounts: [{ id: "account-1", name: "Acme" }, { id: "account-2", name: "Other" }] });
    const run = t.provision("--env", "production");
    assert.equal(run.status, 1);
    assert.match(run.output, /set CLOUDFLARE_ACCOUNT_ID to one of account-1 \(Acme\), account-2 \(Other\)/);
    assert.deepEqual(t.state().calls, ["whoami --json"]);
  } finally {
    t.done();
  }
});

test("--check refuses the placeholder D1 id and accepts a written one", () => {
  const t = setUp();
  try {
    assert.equal(t.provision("--env", "production", "--check").status, 1);
    t.provision("--env", "production");
    assert.equal(t.provision("--env", "production", "--check").status, 0);
    assert.equal(t.provision("--env", "staging", "--check").status, 1);
  } finally {
    t.done();
  }
});
