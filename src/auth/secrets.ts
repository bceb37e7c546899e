// Secrets we must keep and use later (scan credentials, webhook secrets) are encrypted with
// AES-256-GCM under a key from a Worker secret. CREDENTIAL_KEYS holds "keyId:base64Key" pairs,
// comma-separated; the first encrypts, any of them decrypts, so keys rotate without a migration.
// The key id travels with each ciphertext; the AAD binds a ciphertext to the row it belongs to.
const encoder = new TextEncoder();

export type Sealed = { keyId: string; ciphertext: string };
export type KeyRing = { current: string; keys: Map<string, CryptoKey> };

export async function keyRingFrom(setting: string | undefined): Promise<KeyRing> {
  const entries = (setting ?? "").split(",").map((e) => e.trim()).filter(Boolean);
  if (entries.length === 0) throw new Error("CREDENTIAL_KEYS is not set");
  const keys = new Map<string, CryptoKey>();
  for (const [index, entry] of entries.entries()) {
    const [keyId, material] = entry.split(":");
    let raw: Uint8Array<ArrayBuffer> = new Uint8Array(0);
    try {
      raw = Uint8Array.from(atob(material ?? ""), (c) => c.charCodeAt(0));
    } catch {
      // not base64: refused below
    }
    // Named by position: a malformed entry may be the key itself, which must never reach a log.
    if (!keyId || !material || raw.byteLength !== 32) throw new Error(`CREDENTIAL_KEYS entry ${index + 1} must be keyId:<32 bytes, base64>`);
    keys.set(keyId, await crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]));
  }
  return { current: entries[0].split(":")[0], keys };
}

const toBase64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));
const fromBase64 = (text: string) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

export async function seal(ring: KeyRing, plaintext: string, associatedData: string): Promise<Sealed> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const key = ring.keys.get(ring.current)!;
  const sealed = new Uint8Array(
    await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: encoder.encode(associatedData) }, key, encoder.encode(plaintext)),
  );
  const out = new Uint8Array(iv.byteLength + sealed.byteLength);
  out.set(iv);
  out.set(sealed, iv.byteLength);
  return { keyId: ring.current, ciphertext: toBase64(out) };
}

export async function unseal(ring: KeyRing, sealed: Sealed, associatedData: string): Promise<string> {
  const key = ring.keys.get(sealed.keyId);
  if (!key) throw new Error(`no key "${sealed.keyId}" in CREDENTIAL_KEYS`);
  const bytes = fromBase64(sealed.ciphertext);
  const plain = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: bytes.slice(0, 12), additionalData: encoder.encode(associatedData) },
    key,
    bytes.slice(12),
  );
  return new TextDecoder().decode(plain);
}
