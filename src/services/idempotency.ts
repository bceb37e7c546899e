// Idempotent POSTs (the IETF httpapi Idempotency-Key draft): the same key with the same request
// within 24 hours answers the first response again; with another request, 422; while the first is
// still in flight, 409 — except that a retry of a request that already started a run waits on
// that run and answers as the first would, so a retried trigger never starts a second run.
import type { Db } from "../db/client";
import {
  claimIdempotencyKey,
  deleteExpiredIdempotencyKeys,
  findIdempotencyRecord,
  releaseIdempotencyKey,
  setIdempotencyRun,
  storeIdempotencyResponse,
} from "../db/idempotency";
import { openText, sealText } from "../auth/sealing";
import { sha256Hex } from "../auth/tokens";
import { ApiError } from "../errors";
import { uuidv7 } from "../ids";
import type { Clock } from "./clock";

export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
/** An unanswered claim with no run this old belongs to a request that died; a retry takes it over. */
export const ABANDONED_CLAIM_MS = 60_000;
export const MAX_KEY_LENGTH = 255;
/** The headers a replay repeats; the rest (rate limits, D1 bookmark) belong to the new request. */
export const REPLAYED_HEADERS = ["location", "content-type"] as const;

type Deps = { db: Db; now: Clock };

/** A request's hold on a key; `secret` is the caller's credential, which seals the stored answer. */
export type Claim = { scope: string; key: string; claimId: string; secret: string };

export type StoredResponse = { status: number; headers: Record<string, string>; body: string };

export type Begun =
  /** This request holds the key: run it, then finish(). */
  | { kind: "claimed"; claim: Claim }
  /** An earlier request with this key started this run and has not answered: answer from the run, then finish(). */
  | { kind: "attach"; claim: Claim; runId: string }
  /** Answer this again. */
  | { kind: "replay"; response: StoredResponse };

/** What the routes that start runs see of an idempotent request (a context variable). */
export type IdempotentRequest = {
  /** The run an earlier request with this key started: pick it up instead of starting another. */
  startedRunId: string | null;
  /** Records the run this request started, before it waits on it. */
  runStarted(runId: string): Promise<void>;
};

const invalidKey = (message: string) =>
  new ApiError("idempotency.invalid_key", message, { maxLength: MAX_KEY_LENGTH });

/**
 * The key of an Idempotency-Key header, or null without one. The draft sends it as a structured
 * field string ("…"); a bare value is accepted too, and both spellings name the same key.
 */
export function parseIdempotencyKey(header: string | undefined): string | null {
  if (header === undefined) return null;
  let key = header.trim();
  if (key.length >= 2 && key.startsWith('"') && key.endsWith('"')) {
    const inner = key.slice(1, -1);
    if (!/^(?:[^"\\]|\\["\\])*$/.test(inner)) throw invalidKey("The Idempotency-Key is not a valid quoted string");
    key = inner.replace(/\\(["\\])/g, "$1");
  }
  if (key.length === 0) throw invalidKey("The Idempotency-Key is empty");
  if (key.length > MAX_KEY_LENGTH) throw invalidKey(`The Idempotency-Key is longer than ${MAX_KEY_LENGTH} characters`);
  if (!/^[\x20-\x7e]+$/.test(key)) throw invalidKey("The Idempotency-Key may hold only printable ASCII characters");
  return key;
}

/** "The same request": method, path and body bytes. */
export const requestFingerprint = (method: string, path: string, body: string) => sha256Hex(`${method}\n${path}\n${body}`);

const sealContext = (scope: string, key: string) => `idempotency:${scope}:${key}`;

/**
 * Claims the key or tells how to answer. Throws 422 for the key reused with another request and
 * 409 while the first request is in flight without a run.
 * `defer` receives clean-up work that need not delay the answer.
 */
export async function beginIdempotentRequest(
  deps: Deps,
  request: { scope: string; key: string; fingerprint: string; secret: string },
  defer: (work: Promise<unknown>) => void = () => {},
): Promise<Begun> {
  const { scope, key, fingerprint, secret } = request;
  // A record released between our claim and our read is claimed on the next turn.
  for (let attempt = 0; attempt < 3; attempt++) {
    const now = deps.now().getTime();
    const expiredBefore = new Date(now - IDEMPOTENCY_TTL_MS).toISOString();
    const claimId = uuidv7(now);
    const claimed = await claimIdempotencyKey(
      deps.db,
      { scope, key, fingerprint, claimId, createdAt: new Date(now).toISOString() },
      { expiredBefore, abandonedBefore: new Date(now - ABANDONED_CLAIM_MS).toISOString() },
    );
    if (claimed) {
      defer(deleteExpiredIdempotencyKeys(deps.db, expiredBefore).catch((error) => console.error("idempotency purge failed", error)));
      return { kind: "claimed", claim: { scope, key, claimId, secret } };
    }

    const record = await findIdempotencyRecord(deps.db, scope, key);
    if (!record || record.createdAt < expiredBefore) continue;
    if (record.fingerprint !== fingerprint) {
      throw new ApiError("idempotency.key_reused",
        "This Idempotency-Key was used with another request (method, path or body) in the last 24 hours: use a new key",
        { key },
      );
    }
    const claim = { scope, key, claimId: record.claimId, secret };
    if (record.responseStatus !== null) {
      const body = record.responseBody === null ? "" : await openText(secret, sealContext(scope, key), record.responseBody);
      // Only a change of the operator's secret makes this happen: the key's answer is not ours to read.
      if (body === null) throw new ApiError("idempotency.key_reused", "This Idempotency-Key was used with another credential", { key });
      return { kind: "replay", response: { status: record.responseStatus, headers: record.responseHeaders ?? {}, body } };
    }
    if (record.runId !== null) return { kind: "attach", claim, runId: record.runId };
    throw new ApiError("idempotency.in_flight",
      "A request with this Idempotency-Key is still being processed; retry after it answers",
      { key },
      { "Retry-After": "1" },
    );
  }
  throw new ApiError("idempotency.in_flight", "This Idempotency-Key is changing hands; retry", { key }, { "Retry-After": "1" });
}

export async function recordStartedRun(deps: Pick<Deps, "db">, claim: Claim, runId: string) {
  await setIdempotencyRun(deps.db, claim.scope, claim.key, claim.claimId, runId);
}

/**
 * Stores the answer for replays, or, for a 5xx, releases the key so a retry runs again (a key
 * whose run is still going keeps it: the retry waits on that run).
 */
export async function finishIdempotentRequest(deps: Pick<Deps, "db">, claim: Claim, response: StoredResponse) {
  const { scope, key, claimId } = claim;
  if (response.status >= 500) return releaseIdempotencyKey(deps.db, scope, key, claimId);
  const sealedBody = await sealText(claim.secret, sealContext(scope, key), response.body);
  await storeIdempotencyResponse(deps.db, scope, key, claimId, { status: response.status, headers: response.headers, sealedBody });
}
