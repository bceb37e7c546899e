// Reads the Worker's own account of a request from its Server-Timing header (bench/README.md, "3."):
//   rl;dur=<ms>;desc="rate limiter"   one per call to the token's RateLimiter Durable Object (auth.ts)
//   d1;dur=<ms>;desc="<n> queries"    the request's D1 round trips and their time (d1-session.ts)
// Durations are whole milliseconds of the Worker's clock, which advances only across I/O.

/** Parses a Server-Timing value (several headers arrive joined by ", ") into its entries. */
export function parseServerTiming(value) {
  if (!value) return [];
  const entries = [];
  // metric *( ";" param ), params being name=token or name="quoted, may hold ; and ,"
  const entry = /\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)((?:\s*;\s*[A-Za-z0-9_-]+\s*=\s*(?:"(?:[^"\\]|\\.)*"|[^;,]*))*)\s*(?:,|$)/gy;
  const param = /\s*;\s*([A-Za-z0-9_-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;,]*)/g;
  let m;
  while (entry.lastIndex < value.length && (m = entry.exec(value))) {
    const found = { name: m[1], dur: undefined, desc: undefined };
    for (const [, key, raw] of m[2].matchAll(param)) {
      const text = raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, "$1") : raw.trim();
      if (key === "dur") found.dur = Number(text);
      else if (key === "desc") found.desc = text;
    }
    entries.push(found);
  }
  return entries;
}

/**
 * What one request cost the edge layer, by the Worker's own account:
 * limiterCalls = RateLimiter DO calls (`rl` entries), limiterMs = their summed dur,
 * d1Queries = D1 round trips (from the `d1` desc), d1Ms = their summed dur; null when absent.
 */
export function edgeCost(value) {
  const entries = parseServerTiming(value);
  const rl = entries.filter((e) => e.name === "rl");
  const d1 = entries.find((e) => e.name === "d1");
  const queries = d1?.desc?.match(/^(\d+) quer/);
  return {
    limiterCalls: rl.length,
    limiterMs: rl.length ? rl.reduce((sum, e) => sum + (e.dur ?? 0), 0) : null,
    d1Queries: queries ? Number(queries[1]) : null,
    d1Ms: d1?.dur ?? null,
  };
}
