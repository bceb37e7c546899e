// Token format: "aegis_" + 32 base62 characters + a 6-character base62 CRC-32 checksum.
// The checksum lets us refuse a mistyped or made-up token without touching D1, and the
// fixed prefix lets secret scanners recognise a leaked one. Only SHA-256 hashes are stored.
const PREFIX = "aegis_";
const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const SECRET_LENGTH = 32;
const CHECKSUM_LENGTH = 6;
const BODY_PATTERN = new RegExp(`^[0-9A-Za-z]{${SECRET_LENGTH + CHECKSUM_LENGTH}}$`);

export function generateToken(): string {
  // 62^32 ≈ 2^190; rejection sampling keeps each character uniform.
  const chars: string[] = [];
  while (chars.length < SECRET_LENGTH) {
    for (const byte of crypto.getRandomValues(new Uint8Array(48))) {
      if (byte < 248 && chars.length < SECRET_LENGTH) chars.push(BASE62[byte % 62]);
    }
  }
  const secret = chars.join("");
  return PREFIX + secret + checksum(secret);
}

/**
 * Reads a bearer value into its canonical form, or null when it cannot be a token of ours.
 * The contract's examples write `aegis_$TOKEN`, so a variable that already held the prefix
 * arrives as `aegis_aegis_…`: both spellings are accepted.
 */
export function canonicalToken(value: string): string | null {
  let body = value.trim();
  if (body.startsWith(PREFIX)) body = body.slice(PREFIX.length);
  if (body.startsWith(PREFIX)) body = body.slice(PREFIX.length);
  if (!BODY_PATTERN.test(body)) return null;
  const secret = body.slice(0, SECRET_LENGTH);
  if (body.slice(SECRET_LENGTH) !== checksum(secret)) return null;
  return PREFIX + body;
}

/** The credential of an `Authorization: Bearer …` header, as sent, or null. */
export function bearerOf(header: string | undefined): string | null {
  const match = header?.match(/^Bearer\s+(\S+)\s*$/i);
  return match ? match[1] : null;
}

/** What a listing shows so a person can tell tokens apart: never enough to use one. */
export const tokenPrefix = (token: string) => token.slice(0, PREFIX.length + 6);

export async function sha256Hex(value: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(value));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Constant-time equality of two secrets of any length (compares their SHA-256 digests). */
export async function secretsEqual(a: string, b: string): Promise<boolean> {
  const encoder = new TextEncoder();
  const [da, db] = await Promise.all([
    crypto.subtle.digest("SHA-256", encoder.encode(a)),
    crypto.subtle.digest("SHA-256", encoder.encode(b)),
  ]);
  // Both digests are 32 bytes, so the loop's length leaks nothing about the secrets.
  const x = new Uint8Array(da);
  const y = new Uint8Array(db);
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= x[i] ^ y[i];
  return diff === 0;
}

function checksum(secret: string): string {
  let n = crc32(new TextEncoder().encode(secret));
  let out = "";
  for (let i = 0; i < CHECKSUM_LENGTH; i++) {
    out = BASE62[n % 62] + out;
    n = Math.floor(n / 62);
  }
  return out;
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[i] = c >>> 0;
  }
  return table;
})();

function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = CRC_TABLE[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
