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

const PRIVATE_NAMES = new Set(["localhost", "metadata.google.internal", "metadata", "instance-data"]);

export function isPrivateHost(host: string): boolean {
  if (PRIVATE_NAMES.has(host) || host.endsWith(".localhost") || host.endsWith(".local") || host.endsWith(".internal")) return true;
  const v4 = parseIPv4(host);
  if (v4) return isPrivateIPv4(v4);
  if (host.includes(":")) return isPrivateIPv6(host);
  return false;
}

function parseIPv4(host: string): number[] | null {
  const parts = host.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p))) return null;
  const octets = parts.map(Number);
  return octets.every((o) => o <= 255) ? octets : null;
}

function isPrivateIPv4([a, b]: number[]): boolean {
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

function isPrivateIPv6(host: string): boolean {
  const h = host.toLowerCase();
  if (h === "::" || h === "::1") return true;
  const mapped = h.match(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/);
  if (mapped) {
    const v4 = parseIPv4(mapped[1]);
    return v4 ? isPrivateIPv4(v4) : true;
  }
  if (h.startsWith("::ffff:")) return true; // hex-written mapped IPv4: refuse rather than decode
  return /^f[cd]/.test(h) || /^fe[89ab]/.test(h) || h.startsWith("ff");
}
