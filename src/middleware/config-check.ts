// A deployed Worker (DEPLOY_ENV set, as wrangler.toml's [env.staging] and [env.production] do)
// with a missing or weak secret answers 503 service.misconfigured on every route but /health,
// naming each setting and what is wrong with it (never its value), instead of failing deep inside
// a request. Local work and the tests leave DEPLOY_ENV unset and are not checked.
import { createMiddleware } from "hono/factory";
import type { AppEnv, Env } from "../env";
import { ApiError } from "../errors";
import { keyRingFrom } from "../auth/secrets";

export const MIN_SECRET_LENGTH = 32;
/** Fewer distinct characters than this in 32 or more is a pattern, not a random value. */
const MIN_DISTINCT_CHARACTERS = 10;

/** Values published in this repository (.dev.vars.example, vitest.config.ts): never secret. */
const PUBLISHED_VALUES = new Set([
  "local-admin-token-change-me",
  "local-link-signing-secret-change-me",
  "test-admin-token",
  "test-link-signing-secret",
]);
const PUBLISHED_KEY_MATERIAL = new Set([
  "GnvyAV6lKCGEvuJWCvBxcQFJaGatvczY+t8ltp1UgIM=",
  "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
]);

export type CheckedSecret = "ADMIN_TOKEN" | "LINK_SIGNING_SECRET" | "CREDENTIAL_KEYS";
export type SettingProblem = { name: CheckedSecret; problem: string };
type Secrets = Pick<Env, CheckedSecret>;

function textSecretProblem(value: string | undefined): string | undefined {
  if (!value?.trim()) return "is not set";
  if (PUBLISHED_VALUES.has(value.trim())) return "is an example value published in this repository";
  if (value.length < MIN_SECRET_LENGTH) return `is shorter than ${MIN_SECRET_LENGTH} characters`;
  if (new Set(value).size < MIN_DISTINCT_CHARACTERS) return `has fewer than ${MIN_DISTINCT_CHARACTERS} distinct characters`;
  return undefined;
}

/** The key ring's problems, by entry position (an id or key is never echoed). */
async function credentialKeysProblem(setting: string | undefined): Promise<string | undefined> {
  const entries = (setting ?? "").split(",").map((e) => e.trim()).filter(Boolean);
  if (entries.length === 0) return "is not set";
  const seen = new Map<string, number>();
  for (const [index, entry] of entries.entries()) {
    const position = index + 1;
    const [keyId, material, ...extra] = entry.split(":");
    let length = -1;
    try {
      length = atob(material ?? "").length;
    } catch {
      // not base64: reported below
    }
    if (!keyId || extra.length || length !== 32) return `entry ${position} is not keyId:base64(32 bytes) (entries are comma-separated)`;
    if (PUBLISHED_KEY_MATERIAL.has(material)) return `entry ${position} is an example key published in this repository`;
    if (seen.has(keyId)) return `entry ${position} repeats the key id of entry ${seen.get(keyId)}`;
    seen.set(keyId, position);
  }
  // The ring the Worker will use must build from it, too.
  return keyRingFrom(setting).then(
    () => undefined,
    () => "does not parse as a key ring",
  );
}

/** Every secret that is missing or weak, by name. */
export async function secretProblems(env: Secrets): Promise<SettingProblem[]> {
  const problems: SettingProblem[] = [];
  const admin = textSecretProblem(env.ADMIN_TOKEN);
  if (admin) problems.push({ name: "ADMIN_TOKEN", problem: admin });
  // Several link secrets (a rotation): each is judged, by position.
  const linkSecrets = (env.LINK_SIGNING_SECRET ?? "").split(",").map((s) => s.trim());
  const links = linkSecrets.length > 1
    ? linkSecrets.flatMap((secret, i) => {
        const problem = textSecretProblem(secret);
        return problem ? [`entry ${i + 1} ${problem}`] : [];
      })[0]
    : textSecretProblem(env.LINK_SIGNING_SECRET);
  if (links) problems.push({ name: "LINK_SIGNING_SECRET", problem: links });
  if (env.ADMIN_TOKEN && linkSecrets.includes(env.ADMIN_TOKEN.trim())) {
    problems.push({ name: "LINK_SIGNING_SECRET", problem: "is the same value as ADMIN_TOKEN" });
  }
  const keys = await credentialKeysProblem(env.CREDENTIAL_KEYS);
  if (keys) problems.push({ name: "CREDENTIAL_KEYS", problem: keys });
  return problems;
}

// Secrets change only with a new deployment, hence a new isolate: judge them once per isolate
// (per value, so a test that swaps them is judged again).
let judged: { key: string; problems: Promise<SettingProblem[]>; logged: boolean } | undefined;

export const configCheck = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    const deployEnv = c.env.DEPLOY_ENV;
    if (!deployEnv || c.req.path === "/health") return next();
    const key = JSON.stringify([c.env.ADMIN_TOKEN, c.env.LINK_SIGNING_SECRET, c.env.CREDENTIAL_KEYS]);
    if (judged?.key !== key) judged = { key, problems: secretProblems(c.env), logged: false };
    const current = judged;
    const problems = await current.problems;
    if (problems.length === 0) return next();
    const said = problems.map((p) => `${p.name} ${p.problem}`).join("; ");
    if (!current.logged) {
      current.logged = true;
      console.error("config check: refusing to serve", c.get("requestId"), deployEnv, said);
    }
    throw new ApiError(
      "service.misconfigured",
      `This deployment (${deployEnv}) is misconfigured: ${said}. Set secrets with \`wrangler secret put <NAME> --env ${deployEnv}\`.`,
      { environment: deployEnv, settings: problems },
      { "Cache-Control": "no-store" },
    );
  });
