// A crawl's credentials as its request guard uses them (crawl-tab.ts): the headers and cookies
// added to the scan's own origin, what is stripped from requests to other origins, the secrets
// no request elsewhere may carry, and their redaction from everything the crawl reports.
import type { CrawlCredential, PageRecord } from "./crawl-types";

/** What the interceptor adds to and strips from requests. */
export type Auth = {
  /** Lowercase header name → value, for same-origin requests. */
  headers: Record<string, string>;
  cookies: { name: string; value: string }[];
  secrets: string[];
  any: boolean;
};

export function authFrom(credentials: CrawlCredential[]): Auth {
  const headers: Record<string, string> = {};
  const cookies: Auth["cookies"] = [];
  const secrets: string[] = [];
  for (const c of credentials) {
    if (c.type === "bearer_token") {
      const name = (c.header_name ?? "authorization").toLowerCase();
      headers[name] = name === "authorization" ? `Bearer ${c.token}` : c.token;
      secrets.push(c.token);
    } else if (c.type === "custom_headers") {
      for (const [name, value] of Object.entries(c.headers)) {
        if (name.toLowerCase() === "cookie") {
          for (const pair of value.split(";").map((p) => p.trim()).filter((p) => p.includes("="))) {
            const at = pair.indexOf("=");
            cookies.push({ name: pair.slice(0, at).trim(), value: pair.slice(at + 1).trim() });
            secrets.push(pair.slice(at + 1).trim());
          }
          continue;
        }
        headers[name.toLowerCase()] = value;
        secrets.push(value);
      }
    } else if (c.type === "cookie") {
      cookies.push({ name: c.name, value: c.value });
      secrets.push(c.value);
    } else {
      secrets.push(c.password);
    }
  }
  // Short values would match innocent text; they are still never sent elsewhere by us.
  return { headers, cookies, secrets: [...new Set(secrets.filter((s) => s.length >= 4))], any: credentials.length > 0 };
}

export function withCredentials(original: Record<string, string>, auth: Auth): Record<string, string> {
  const headers = { ...original, ...auth.headers };
  if (auth.cookies.length > 0) {
    // The page's own cookies stay, except those the credential replaces.
    const ours = new Set(auth.cookies.map((c) => c.name));
    const theirs = (original.cookie ?? "").split(/;\s*/).filter((c) => c && !ours.has(c.split("=")[0]));
    headers.cookie = [...theirs, ...auth.cookies.map((c) => `${c.name}=${c.value}`)].join("; ");
  }
  return headers;
}

export function withoutCredentials(original: Record<string, string>, auth: Auth): Record<string, string> {
  const headers: Record<string, string> = {};
  // A header of ours never reaches another origin; the page's own (its SPA's API token) may.
  for (const [name, value] of Object.entries(original)) {
    if (auth.headers[name.toLowerCase()] !== value) headers[name] = value;
  }
  // An empty Cookie header replaces what the cookie jar would add (the jar is not port-scoped).
  headers.cookie = "";
  return headers;
}

export function carriesSecret(url: string, body: string | undefined, secrets: string[]): boolean {
  const haystacks = [url, body ?? ""];
  return secrets.some((s) => haystacks.some((h) => h.includes(s) || h.includes(encodeURIComponent(s))));
}

export function redactText(text: string, secrets: string[]): string {
  let out = text;
  for (const s of secrets) out = out.split(s).join("[redacted]").split(encodeURIComponent(s)).join("[redacted]");
  return out;
}

/** Every string of a record with the crawl's secrets replaced: pages may echo a token. */
export function redact(record: PageRecord, secrets: string[]): PageRecord {
  if (secrets.length === 0) return record;
  const r = (s: string) => redactText(s, secrets);
  return {
    ...record,
    url: r(record.url),
    finalUrl: r(record.finalUrl),
    redirectChain: record.redirectChain.map(r),
    title: r(record.title),
    links: record.links.map((l) => ({ ...l, url: r(l.url) })),
    brokenLinks: record.brokenLinks.map((l) => ({ ...l, url: r(l.url), reason: r(l.reason) })),
    consoleErrors: record.consoleErrors.map(r),
    failedRequests: record.failedRequests.map((f) => ({ url: r(f.url), reason: r(f.reason) })),
    forms: record.forms.map((f) => ({ ...f, action: r(f.action), resultUrl: f.resultUrl && r(f.resultUrl), skipReason: f.skipReason && r(f.skipReason) })),
    error: record.error && r(record.error),
  };
}
