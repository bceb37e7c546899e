// What `npm run provision` does for one environment, as data: read from wrangler.toml, turned into
// wrangler commands, with no I/O of its own. scripts/provision.mjs runs the plan (or prints it with
// --dry-run); test/deploy.test.ts checks it inside workerd, so nothing here imports from node:.

/** The D1 id wrangler.toml carries until `npm run provision` writes the real one. */
export const PLACEHOLDER_DATABASE_ID = "00000000-0000-0000-0000-000000000000";

/** Every secret a deployed Worker needs (wrangler.toml's `secrets.required` names the same). */
export const SECRET_NAMES = ["ADMIN_TOKEN", "LINK_SIGNING_SECRET", "CREDENTIAL_KEYS"];

/** Days that run and crawl artifacts (screenshots, captures, diff images) stay in R2. */
export const ARTIFACT_RETENTION_DAYS = 90;

/** A dead letter waits this long for a person (the paid plan's maximum, 14 days). */
export const DEAD_LETTER_RETENTION_SECONDS = 14 * 24 * 3600;

/**
 * The bucket's lifecycle rules, in the form `wrangler r2 bucket lifecycle set --file` takes.
 * Baselines (`baselines/`) and exports (`exports/`) are live data the app deletes itself; run and
 * crawl artifacts expire. The multipart rule is the one R2 gives a new bucket, kept because `set`
 * replaces every rule.
 */
/** @type {{ rules: { id: string, enabled: boolean, conditions: { prefix?: string }, [action: string]: unknown }[] }} */
export const R2_LIFECYCLE = {
  rules: [
    expireRule("expire-run-artifacts", "runs/", ARTIFACT_RETENTION_DAYS),
    expireRule("expire-crawl-artifacts", "crawls/", ARTIFACT_RETENTION_DAYS),
    {
      id: "abort-incomplete-multipart-uploads",
      enabled: true,
      conditions: {},
      abortMultipartUploadsTransition: { condition: { type: "Age", maxAge: 7 * 86400 } },
    },
  ],
};

function expireRule(id, prefix, days) {
  return { id, enabled: true, conditions: { prefix }, deleteObjectsTransition: { condition: { type: "Age", maxAge: days * 86400 } } };
}

/**
 * The tables of wrangler.toml, in order, each with its string, number and string-array values.
 * Enough TOML for our own file (one key = value per line, comments, [table] and [[array]]
 * headers), not a general parser.
 * @param {string} tomlText
 * @returns {{ header: string, array: boolean, values: Record<string, any> }[]}
 */
export function readTables(tomlText) {
  /** @type {{ header: string, array: boolean, values: Record<string, any> }[]} */
  const tables = [{ header: "", array: false, values: {} }];
  for (const raw of tomlText.split("\n")) {
    const line = stripComment(raw).trim();
    if (!line) continue;
    const header = /^(\[\[?)\s*([A-Za-z0-9_.-]+)\s*\]\]?$/.exec(line);
    if (header) {
      tables.push({ header: header[2], array: header[1] === "[[", values: {} });
      continue;
    }
    const pair = /^([A-Za-z0-9_-]+)\s*=\s*(.+)$/.exec(line);
    if (!pair) throw new Error(`wrangler.toml: cannot read the line "${raw.trim()}"`);
    tables[tables.length - 1].values[pair[1]] = JSON.parse(pair[2]);
  }
  return tables;
}

function stripComment(line) {
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    if (line[i] === '"' && line[i - 1] !== "\\") quoted = !quoted;
    if (line[i] === "#" && !quoted) return line.slice(0, i);
  }
  return line;
}

/** One deployed environment's resources, as its section of wrangler.toml names them. */
export function readEnvironment(tomlText, envName) {
  const tables = readTables(tomlText);
  const prefix = `env.${envName}`;
  const of = (suffix) => tables.filter((t) => t.header === `${prefix}.${suffix}`).map((t) => t.values);
  if (!tables.some((t) => t.header === prefix || t.header.startsWith(`${prefix}.`))) {
    const known = [...new Set(tables.map((t) => /^env\.([^.]+)/.exec(t.header)?.[1]).filter(Boolean))];
    throw new Error(`wrangler.toml has no [env.${envName}] (environments: ${known.join(", ") || "none"})`);
  }
  const workerName = tables[0].values.name;
  const databases = of("d1_databases");
  if (databases.length !== 1) throw new Error(`[env.${envName}] must bind exactly one D1 database, found ${databases.length}`);
  const consumers = of("queues.consumers");
  return {
    envName,
    worker: tables.find((t) => t.header === prefix)?.values.name ?? `${workerName}-${envName}`,
    vars: Object.assign({}, ...of("vars")),
    secrets: Object.assign({ required: [] }, ...of("secrets")).required,
    database: { binding: databases[0].binding, name: databases[0].database_name, id: databases[0].database_id },
    queues: [...new Set(of("queues.producers").map((p) => p.queue).concat(consumers.map((c) => c.queue)))],
    deadLetterQueues: [...new Set(consumers.map((c) => c.dead_letter_queue).filter(Boolean))],
    buckets: of("r2_buckets").map((b) => b.bucket_name),
  };
}

/**
 * wrangler.toml with `id` as the database_id of [[env.<envName>.d1_databases]]; nothing else changes.
 * @param {string} tomlText @param {string} envName @param {string} id
 */
export function withDatabaseId(tomlText, envName, id) {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id)) throw new Error(`"${id}" is not a D1 database id`);
  const lines = tomlText.split("\n");
  const start = lines.findIndex((l) => l.trim() === `[[env.${envName}.d1_databases]]`);
  if (start < 0) throw new Error(`wrangler.toml has no [[env.${envName}.d1_databases]]`);
  for (let i = start + 1; i < lines.length && !/^\s*\[/.test(lines[i]); i++) {
    if (/^\s*database_id\s*=/.test(lines[i])) {
      lines[i] = `database_id = "${id}"`;
      return lines.join("\n");
    }
  }
  throw new Error(`[[env.${envName}.d1_databases]] has no database_id line`);
}

/**
 * The steps that bring an environment's resources into being. Each step has a read-only `check`
 * (wrangler's JSON where it has a --json flag, else its exit status) and what to do when the check
 * finds the thing missing. Wrangler commands are argument lists, without the leading `wrangler`.
 */
export function planProvision(env, { location } = {}) {
  const where = location ? ["--location", location] : [];
  const steps = [{ kind: "account", check: ["whoami", "--json"], why: "who is logged in, and the account id" }];
  steps.push({
    kind: "database",
    name: env.database.name,
    check: ["d1", "list", "--json"],
    create: ["d1", "create", env.database.name, ...where],
    read: ["d1", "info", env.database.name, "--json"],
    why: "its uuid (written into wrangler.toml) and its read replication mode",
  });
  steps.push({ kind: "read-replication", name: env.database.name, request: readReplicationRequest("$CLOUDFLARE_ACCOUNT_ID", "<uuid>") });
  for (const name of [...env.queues, ...env.deadLetterQueues]) {
    const deadLetter = env.deadLetterQueues.includes(name);
    steps.push({
      kind: "queue",
      name,
      check: ["queues", "info", name],
      create: ["queues", "create", name, ...(deadLetter ? ["--message-retention-period-secs", String(DEAD_LETTER_RETENTION_SECONDS)] : [])],
    });
  }
  for (const name of env.buckets) {
    steps.push({ kind: "bucket", name, check: ["r2", "bucket", "info", name, "--json"], create: ["r2", "bucket", "create", name, ...where] });
    steps.push({ kind: "lifecycle", name, run: ["r2", "bucket", "lifecycle", "set", name, "--file", LIFECYCLE_FILE, "--force"], rules: R2_LIFECYCLE });
  }
  steps.push({ kind: "secrets", check: ["secret", "list", "--env", env.envName, "--format", "json"], names: env.secrets.length ? env.secrets : SECRET_NAMES });
  return steps;
}

/** Stands for the temporary file provision.mjs writes R2_LIFECYCLE to. */
export const LIFECYCLE_FILE = "<r2-lifecycle.json>";

/** Wrangler has no command for it: D1's REST API turns read replication on. */
export function readReplicationRequest(accountId, databaseId) {
  return {
    method: "PUT",
    url: `https://api.cloudflare.com/client/v4/accounts/${accountId}/d1/database/${databaseId}`,
    body: { read_replication: { mode: "auto" } },
  };
}

export const curlOf = (request) =>
  `curl -fsS -X ${request.method} "${request.url}" -H "Authorization: Bearer $CLOUDFLARE_API_TOKEN" -H "Content-Type: application/json" -d '${JSON.stringify(request.body)}'`;

/** A wrangler command as a person types it in this repository. */
export const commandLine = (args) => ["npx", "wrangler", ...args].map(shellWord).join(" ");

const shellWord = (word) => (/^[A-Za-z0-9_./:=@%+-]+$/.test(word) || /^<[^>]+>$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`);

/** What --dry-run prints: every command, in order, each with when it runs. */
export function describePlan(env, steps) {
  const lines = [];
  for (const step of steps) {
    switch (step.kind) {
      case "account":
        lines.push(`${commandLine(step.check)}    # ${step.why}`);
        break;
      case "database":
        lines.push(`${commandLine(step.check)}    # is D1 database ${step.name} there?`);
        lines.push(`${commandLine(step.create)}    # only if it is not`);
        lines.push(`${commandLine(step.read)}    # ${step.why}`);
        lines.push(`write its uuid as database_id of [[env.${env.envName}.d1_databases]] in wrangler.toml    # only if it differs (now ${env.database.id})`);
        break;
      case "read-replication":
        lines.push(`${curlOf(step.request)}    # only if ${step.name}'s read_replication.mode is not "auto"`);
        break;
      case "queue":
      case "bucket":
        lines.push(`${commandLine(step.check)}    # is ${step.kind} ${step.name} there?`);
        lines.push(`${commandLine(step.create)}    # only if it is not`);
        break;
      case "lifecycle":
        lines.push(`${commandLine(step.run)}    # always; the file holds: ${JSON.stringify(step.rules)}`);
        break;
      case "secrets":
        lines.push(`${commandLine(step.check)}    # reports which of ${step.names.join(", ")} are not set yet`);
        break;
      default:
        throw new Error(`unknown step ${step.kind}`);
    }
  }
  return lines;
}
