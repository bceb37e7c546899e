// What /health and /ready report. Neither touches tenant data: a `select 1`, and a schema probe
// that reads no row.
import { ApiError } from "../errors";
import type { Db } from "../db/client";
import { checkSchema, pingDb } from "../db/operations";
import { VERSION } from "../version";
import type { Clock } from "./clock";
import { uptimeSeconds } from "./metrics";

type Deps = { db: Db; now: Clock };

/** A D1 that does not answer within this is reported unreachable rather than holding the probe. */
const D1_TIMEOUT_MS = 2_000;

export type Health = {
  status: "ok" | "degraded";
  version: string;
  uptime: number;
  d1: { reachable: boolean; latencyMs: number };
};

/** Liveness with one D1 round trip: "degraded" (still answered) when D1 does not answer. */
export async function checkHealth(deps: Deps): Promise<Health> {
  const started = deps.now().getTime();
  const reachable = await withTimeout(pingDb(deps.db)).then(
    () => true,
    (error: unknown) => {
      console.error("health: D1 unreachable", error);
      return false;
    },
  );
  const finished = deps.now().getTime();
  return {
    status: reachable ? "ok" : "degraded",
    version: VERSION,
    uptime: uptimeSeconds(finished),
    d1: { reachable, latencyMs: finished - started },
  };
}

/** Ready when D1 answers and every table and column of schema.ts exists; else 503. */
export async function checkReadiness(deps: Deps): Promise<{ ready: true }> {
  try {
    await withTimeout(checkSchema(deps.db));
  } catch (error) {
    console.error("ready: D1 unreachable or schema not migrated", error);
    throw new ApiError("service.not_ready", "The database is unreachable or its schema is not migrated", {}, { "Retry-After": "5" });
  }
  return { ready: true };
}

function withTimeout<T>(work: Promise<T>) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`D1 did not answer within ${D1_TIMEOUT_MS} ms`)), D1_TIMEOUT_MS);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
