// robots.txt as RFC 9309 reads it. The group for our product token wins over "*" (groups
// naming the same agent are merged); within it the longest matching Allow/Disallow pattern
// decides and Allow wins a tie; "*" matches any run of characters and a final "$" anchors the
// end; an empty Disallow allows everything. Patterns match the URL's path and query.
// What the file's fetch answered decides first: 2xx is parsed, 4xx allows everything, 5xx or
// no answer at all disallows everything (the RFC's "unreachable" rule). Crawl-delay and
// Sitemap lines are read past. Only the first 500 KiB are parsed (the RFC's minimum).

export const ROBOTS_MAX_BYTES = 500 * 1024;

type Rule = { allow: boolean; pattern: string; matcher: RegExp };
type Group = { agents: string[]; rules: Rule[] };

export type Robots =
  | { kind: "rules"; groups: Group[] }
  | { kind: "allow-all"; why: string }
  | { kind: "disallow-all"; why: string };

export function robotsFromFetch(answer: { status: number; text: string } | { error: string }): Robots {
  if ("error" in answer) return { kind: "disallow-all", why: `robots.txt could not be fetched (${answer.error})` };
  if (answer.status >= 200 && answer.status < 300) return parseRobots(answer.text);
  if (answer.status >= 400 && answer.status < 500) return { kind: "allow-all", why: `robots.txt answered HTTP ${answer.status}` };
  return { kind: "disallow-all", why: `robots.txt answered HTTP ${answer.status}` };
}

export function parseRobots(text: string): Robots {
  const groups: Group[] = [];
  let current: Group | null = null;
  let lastWasAgent = false;
  for (const rawLine of text.slice(0, ROBOTS_MAX_BYTES).split(/\r\n|\r|\n/)) {
    const line = rawLine.replace(/#.*$/, "").trim();
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const key = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (key === "user-agent") {
      if (!current || !lastWasAgent) {
        current = { agents: [], rules: [] };
        groups.push(current);
      }
      current.agents.push(value.toLowerCase());
      lastWasAgent = true;
    } else if ((key === "allow" || key === "disallow") && current) {
      lastWasAgent = false;
      if (value === "") continue; // "Disallow:" with nothing allows all; "Allow:" with nothing says nothing
      const pattern = normalizePattern(value);
      current.rules.push({ allow: key === "allow", pattern, matcher: compile(pattern) });
    } else {
      lastWasAgent = false;
    }
  }
  return { kind: "rules", groups };
}

/** Whether `agent` (our product token, e.g. "AegisBot") may fetch `pathAndQuery`. */
export function robotsAllow(robots: Robots, agent: string, pathAndQuery: string): boolean {
  if (robots.kind === "allow-all") return true;
  if (robots.kind === "disallow-all") return false;
  if (pathAndQuery === "/robots.txt") return true;
  const token = agent.toLowerCase();
  let rules = robots.groups.filter((g) => g.agents.includes(token)).flatMap((g) => g.rules);
  if (rules.length === 0 && !robots.groups.some((g) => g.agents.includes(token))) {
    rules = robots.groups.filter((g) => g.agents.includes("*")).flatMap((g) => g.rules);
  }
  const path = upperEscapes(pathAndQuery);
  let best: Rule | null = null;
  for (const rule of rules) {
    if (!rule.matcher.test(path)) continue;
    if (!best || rule.pattern.length > best.pattern.length || (rule.pattern.length === best.pattern.length && rule.allow)) best = rule;
  }
  return best?.allow ?? true;
}

/** Why a path is refused, for events and records. */
export function robotsRefusal(robots: Robots): string {
  return robots.kind === "disallow-all" ? `disallowed: ${robots.why}` : "disallowed by robots.txt";
}

const upperEscapes = (s: string) => s.replace(/%[0-9a-f]{2}/gi, (escape) => escape.toUpperCase());

/** Percent-encode what a URL path would encode (non-ASCII, spaces), keeping existing escapes, * and $. */
function normalizePattern(value: string): string {
  const encoded = Array.from(value)
    .map((ch) => (/[\x21-\x7e]/.test(ch) ? ch : encodeURIComponent(ch)))
    .join("");
  return upperEscapes(encoded);
}

function compile(pattern: string): RegExp {
  const anchored = pattern.endsWith("$");
  const body = anchored ? pattern.slice(0, -1) : pattern;
  const source = body
    .split("*")
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
    .join(".*");
  return new RegExp(`^${source}${anchored ? "$" : ""}`);
}
