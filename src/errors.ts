// One error type for the whole API; app.ts turns it into the contract's {error, code, details}.
import type { ContentfulStatusCode } from "hono/utils/http-status";

export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export const notFound = (what: string) => new ApiError(404, "not_found", `${what} not found`);

export const validationError = (message: string, details: Record<string, unknown> = {}) =>
  new ApiError(400, "validation_error", message, details);

export type ErrorBody = { error: string; code: string; details: Record<string, unknown> };

export function errorBody(error: ApiError): ErrorBody {
  return { error: error.message, code: error.code, details: error.details };
}
