// AES-GCM sealing of stored text under a key derived (HKDF-SHA-256) from a secret the caller
// holds and we never store, so what is sealed can be read back only by whoever presents that
// secret again. Used for stored answers that may carry a token shown once.
const encoder = new TextEncoder();

async function sealingKey(secret: string, context: string) {
  const material = await crypto.subtle.importKey("raw", encoder.encode(secret), "HKDF", false, ["deriveKey"]);
  return crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: encoder.encode(context) },
    material,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
}

export async function sealText(secret: string, context: string, plaintext: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = await crypto.subtle.encrypt({ name: "AES-GCM", iv }, await sealingKey(secret, context), encoder.encode(plaintext));
  const out = new Uint8Array(iv.byteLength + sealed.byteLength);
  out.set(iv);
  out.set(new Uint8Array(sealed), iv.byteLength);
  return toBase64(out);
}

/** The plaintext, or null when the secret or the context differ (or the text was altered). */
export async function openText(secret: string, context: string, sealed: string): Promise<string | null> {
  try {
    const bytes = fromBase64(sealed);
    const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv: bytes.slice(0, 12) }, await sealingKey(secret, context), bytes.slice(12));
    return new TextDecoder().decode(plain);
  } catch {
    return null;
  }
}

// btoa takes a binary string; build it in chunks, since spreading a large array overflows the stack.
function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

function fromBase64(value: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(value), (c) => c.charCodeAt(0));
}
