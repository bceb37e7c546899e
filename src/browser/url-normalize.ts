// One spelling per page, so the crawler visits each page once and link loops end.
//
// The rule: resolve against the page's URL; keep only http(s); drop the fragment, any
// user:password@ and an empty "?"; lowercase scheme and host and drop the default port (the
// URL parser does both); upper-case percent-escapes (%2f → %2F). The path is kept as written,
// trailing slash included: /docs and /docs/ are different resources to a server, and when one
// redirects to the other the crawler learns it from the redirect. The root path is always "/".
// Query parameters keep their order: some servers read them in order.

export function normalizeUrl(raw: string, base?: string): string | null {
  let url: URL;
  try {
    url = base === undefined ? new URL(raw) : new URL(raw, base);
  } catch {
    return null;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return null;
  url.hash = "";
  url.username = "";
  url.password = "";
  if (url.search === "") url.search = ""; // a bare "?" parses to an empty search; setting it drops the "?"
  const upperEscapes = (s: string) => s.replace(/%[0-9a-f]{2}/gi, (escape) => escape.toUpperCase());
  url.pathname = upperEscapes(url.pathname);
  if (url.search) url.search = upperEscapes(url.search);
  return url.href;
}

export function originOf(url: string): string {
  return new URL(url).origin;
}

/** Same scheme, host and port. */
export function isSameOrigin(url: string, origin: string): boolean {
  try {
    return new URL(url).origin === origin;
  } catch {
    return false;
  }
}

/** How a URL reads inside its own site: path and query (for events, tests and robots rules). */
export function pathAndQuery(url: string): string {
  const parsed = new URL(url);
  return parsed.pathname + parsed.search;
}
