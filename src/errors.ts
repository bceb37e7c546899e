// One error type for the whole API; app.ts turns it into the contract's {error, code, details}.
// Every code the API can answer is in ERROR_CODES, and the README's error table lists the same
// codes (a test holds the two together).
import type { ContentfulStatusCode } from "hono/utils/http-status";

export const ERROR_CODES = {
  "request.invalid": { status: 400, meaning: "A field is missing or wrong; `details.issues` names each one" },
  "request.malformed": { status: 400, meaning: "The body is not valid JSON" },
  "request.too_large": { status: 413, meaning: "The body is over 256 KiB" },
  "request.unsupported_media_type": { status: 415, meaning: "The body is neither JSON nor the form type curl -d sends" },
  "route.not_found": { status: 404, meaning: "No such path" },
  "route.method_not_allowed": { status: 405, meaning: "The path exists, not with this method; `Allow` lists the methods" },
  "resource.not_found": { status: 404, meaning: "No such resource in your scope (another tenant's resources answer this too)" },
  "auth.invalid_token": { status: 401, meaning: "The bearer token is missing, malformed, unknown or revoked" },
  "auth.tenant_token_required": { status: 403, meaning: "The operator's admin token only creates organizations" },
  "auth.org_key_required": { status: 403, meaning: "Only the organization key may do this (token management, project settings)" },
  "auth.ci_token_required": { status: 403, meaning: "Only a project's CI token may trigger a CI run" },
  "auth.revocation_pending": { status: 503, meaning: "A revocation could not reach the rate limiter yet; retry" },
  "plan.ci_token_limit": { status: 402, meaning: "The plan's number of CI tokens per project is reached" },
  "rate_limit.exceeded": { status: 429, meaning: "Too many requests; `Retry-After` says when to retry" },
  "rate_limit.unavailable": { status: 503, meaning: "The rate limiter is unreachable, so browser work cannot start; retry" },
  "idempotency.invalid_key": { status: 400, meaning: "The Idempotency-Key header is not 1–255 visible characters" },
  "idempotency.key_reused": { status: 422, meaning: "The Idempotency-Key was used with another request" },
  "idempotency.in_flight": { status: 409, meaning: "A request with this Idempotency-Key is still being answered" },
  "run.browser_unsupported": { status: 400, meaning: "The browserProfile is not available (Chromium only)" },
  "run.target_not_allowed": { status: 400, meaning: "The baseUrl is refused by the URL policy (private address, bad scheme)" },
  "run.no_cases": { status: 400, meaning: "The selection holds no test cases" },
  "run.queue_unavailable": { status: 503, meaning: "The run is recorded as error: it could not be queued; retry" },
  "run.github_unavailable": { status: 503, meaning: "This deployment cannot keep a GitHub token (CREDENTIAL_KEYS unset)" },
  "run.already_settled": { status: 409, meaning: "The run already ended" },
  "run.failed": { status: 422, meaning: "wait: true — the run ended failed" },
  "run.cancelled": { status: 409, meaning: "wait: true — the run was cancelled" },
  "run.error": { status: 502, meaning: "wait: true — the run could not be completed" },
  "run.wait_timeout": { status: 504, meaning: "wait: true — the run is still going after the wait limit; poll its url" },
  "crawl.base_url_required": { status: 400, meaning: "Neither the request nor the project gives a baseUrl to crawl" },
  "crawl.target_not_allowed": { status: 400, meaning: "The crawl's baseUrl is refused by the URL policy" },
  "crawl.credentials_unavailable": { status: 503, meaning: "This deployment cannot store crawl credentials (CREDENTIAL_KEYS unset)" },
  "crawl.queue_unavailable": { status: 503, meaning: "The crawl is recorded as failed: it could not be queued; retry" },
  "crawl.already_settled": { status: 409, meaning: "The crawl already ended" },
  "visual.already_decided": { status: 409, meaning: "The diff was already approved or rejected" },
  "visual.baseline_moved": { status: 409, meaning: "The baseline changed since this diff was made: run again and review the new diff" },
  "visual.capture_expired": { status: 410, meaning: "The diff's capture has expired (90 days): run again and review the new diff" },
  "webhook.target_not_allowed": { status: 400, meaning: "The webhook url is refused by the URL policy (private address, bad scheme)" },
  "webhook.secrets_unavailable": { status: 503, meaning: "This deployment cannot store webhook secrets (CREDENTIAL_KEYS unset)" },
  "webhook.disabled": { status: 409, meaning: "The endpoint is disabled; PATCH {\"enabled\": true} first" },
  "webhook.attempts_exhausted": { status: 409, meaning: "The message was already sent 50 times" },
  "webhook.message_expired": { status: 409, meaning: "The message's body is older than 7 days: it cannot be sent again" },
  "service.misconfigured": { status: 503, meaning: "A deployed Worker's secret is missing or weak; `details.settings` names each (never its value). /health still answers" },
  "service.not_ready": { status: 503, meaning: "/ready: a dependency does not answer" },
  "server.internal": { status: 500, meaning: "Our fault; `details.requestId` identifies it in our logs" },
} as const satisfies Record<string, { status: ContentfulStatusCode; meaning: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** An answer other than success: its HTTP status comes from the code, so the two never disagree. */
export class ApiError extends Error {
  readonly status: ContentfulStatusCode;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "ApiError";
    this.status = ERROR_CODES[code].status;
  }
}

export const notFound = (what: string) => new ApiError("resource.not_found", `${what} not found`);

export const validationError = (message: string, details: Record<string, unknown> = {}) =>
  new ApiError("request.invalid", message, details);

export type ErrorBody = { error: string; code: string; details: Record<string, unknown> };

export function errorBody(error: ApiError): ErrorBody {
  return { error: error.message, code: error.code, details: error.details };
}
