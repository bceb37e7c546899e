// Which URLs the browser may load. Production refuses private, loopback, link-local and
// metadata addresses so a customer's page cannot pull our browser into our own network;
// local development names the hosts it allows (PRIVATE_TARGET_ALLOWLIST).
// Host names are judged as written: DNS answers are not visible from a Worker.

export type UrlPolicy = { allowedPrivateHosts: ReadonlySet<string> };

export function urlPolicyFrom(allowlist: string | undefined): UrlPolicy {
  const hosts = (allowlist ?? "").split(",").map((h) => h.trim().toLowerCase()).filter(Boolean);
  return { allowedPrivateHosts: new Set(hosts) };
}

export type UrlVerdict = { allowed: true } | { allowed: false; reason: string };

export function judgeUrl(policy: UrlPolicy, raw: string): UrlVerdict {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { allowed: false, reason: "not a valid URL" };
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return { allowed: false, reason: `${url.protocol} URLs are not allowed` };
  const host = url.hostname.toLowerCase().replace(/^\[|\]$/g, "");
  if (isPrivateHost(host) && !policy.allowedPrivateHosts.has(host)) {
    return { allowed: false, reason: `${host} is a private, loopback or metadata address` };
  }
  return { allowed: true };
}

/**
 * Whether a host (lowercase, an IPv6 address without brackets) is private, loopback,
 * link-local, multicast or a metadata name. Self-contained, without named inner functions:
 * page-guard.ts injects its source into pages and workers, to judge their WebSockets by the
 * same rules (wrangler's bundle would wrap a named inner function in a helper they lack).
 */
export function isPrivateHost(host: string): boolean {
  if (["localhost", "metadata.google.internal", "metadata", "instance-data"].includes(host) || /\.(localhost|local|internal)$/.test(host)) return true;
  // IPv4, or IPv6 mapping an IPv4 address written as such.
  const dotted = /^(::ffff:)?(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(2).map(Number);
    if (a > 255 || b > 255 || c > 255 || d > 255) return dotted[1] !== undefined;
    return (
      a === 0 || a === 10 || a === 127 ||
      (a === 100 && b >= 64 && b <= 127) || // carrier-grade NAT
      (a === 169 && b === 254) || // link-local, cloud metadata
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 198 && (b === 18 || b === 19)) ||
      a >= 224
    );
  }
  if (!host.includes(":")) return false;
  if (host === "::" || host === "::1" || host.startsWith("::ffff:")) return true; // hex-written mapped IPv4: refused rather than decoded
  return /^f[cd]/.test(host) || /^fe[89ab]/.test(host) || host.startsWith("ff");
}
