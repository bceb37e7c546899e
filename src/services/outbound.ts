// Calls to third parties we report to (GitHub, webhook receivers): bounded in time, redirects
// never followed, the answer read up to a bound and never trusted further than that.
export type Outbound = typeof fetch;

export type OutboundAnswer =
  | { reached: true; status: number; headers: Headers; body: string; durationMs: number }
  | { reached: false; error: string; durationMs: number };

/** The first `maxBytes` of the body as text; the rest is cancelled unread. */
async function readBounded(response: Response, maxBytes: number): Promise<string> {
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (size < maxBytes) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
  }
  await reader.cancel().catch(() => {});
  const joined = new Uint8Array(Math.min(size, maxBytes));
  let at = 0;
  for (const chunk of chunks) {
    const part = chunk.subarray(0, joined.byteLength - at);
    joined.set(part, at);
    at += part.byteLength;
    if (at >= joined.byteLength) break;
  }
  return new TextDecoder().decode(joined);
}

export async function callOutbound(
  outbound: Outbound,
  request: { url: string; method: string; headers: Record<string, string>; body?: string },
  limits: { timeoutMs: number; maxResponseBytes: number },
): Promise<OutboundAnswer> {
  const started = Date.now();
  try {
    const response = await outbound(request.url, {
      method: request.method,
      headers: request.headers,
      body: request.body,
      redirect: "manual",
      signal: AbortSignal.timeout(limits.timeoutMs),
    });
    const body = await readBounded(response, limits.maxResponseBytes);
    return { reached: true, status: response.status, headers: response.headers, body, durationMs: Date.now() - started };
  } catch (error) {
    const timedOut = error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
    const error_ = timedOut ? `no answer within ${limits.timeoutMs} ms` : `could not connect: ${error instanceof Error ? error.message : String(error)}`;
    return { reached: false, error: error_, durationMs: Date.now() - started };
  }
}
