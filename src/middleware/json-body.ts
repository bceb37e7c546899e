// Request bodies are JSON, whatever curl calls them: the contract's own example posts JSON with
// `curl -d` (sent as application/x-www-form-urlencoded), so that type is read as JSON too.
// Other types answer 415; bodies over the limit 413; an empty body reads as {}.
import { createMiddleware } from "hono/factory";
import { ApiError } from "../errors";

export const MAX_JSON_BODY_BYTES = 256 * 1024;

const ACCEPTED = /^(application\/([\w.-]+\+)?json|application\/x-www-form-urlencoded)$/;

export const jsonBody = (maxBytes = MAX_JSON_BODY_BYTES) =>
  createMiddleware(async (c, next) => {
    if (!["POST", "PUT", "PATCH"].includes(c.req.method)) return next();
    const declared = c.req.header("content-length");
    if (declared && Number(declared) > maxBytes) throw tooLarge(maxBytes);
    const text = c.req.raw.body ? await readBounded(c.req.raw.body, maxBytes) : "";
    const mediaType = (c.req.header("content-type") ?? "").split(";")[0].trim().toLowerCase();
    if (mediaType && !ACCEPTED.test(mediaType)) {
      throw new ApiError("request.unsupported_media_type", `Content-Type ${mediaType} is not accepted: send JSON`, {
        accepted: ["application/json", "application/x-www-form-urlencoded (read as JSON)"],
      });
    }
    const headers = new Headers(c.req.raw.headers);
    headers.set("content-type", "application/json");
    headers.delete("content-length");
    c.req.raw = new Request(c.req.raw.url, { method: c.req.method, headers, body: text.trim() === "" ? "{}" : text });
    return next();
  });

const tooLarge = (maxBytes: number) =>
  new ApiError("request.too_large", `The request body is over ${maxBytes} bytes`, { maxBytes });

async function readBounded(body: ReadableStream<Uint8Array>, maxBytes: number): Promise<string> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  const joined = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    joined.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder().decode(joined);
}
