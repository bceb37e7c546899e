// Standard Webhooks signatures (standardwebhooks.com): `v1,` + base64 HMAC-SHA256 of
// `webhook-id.webhook-timestamp.body`, keyed by the base64 part of a `whsec_` secret. Receivers
// verify with the specification's libraries; during a rotation the header carries two signatures.
const encoder = new TextEncoder();
const SECRET_PREFIX = "whsec_";

/** A new signing secret: whsec_ and the base64 of 32 random bytes (the specification asks 24 or more). */
export function newWebhookSecret(): string {
  return SECRET_PREFIX + toBase64(crypto.getRandomValues(new Uint8Array(32)));
}

async function signOne(secret: string, signedContent: string): Promise<string> {
  const raw = Uint8Array.from(atob(secret.slice(SECRET_PREFIX.length)), (c) => c.charCodeAt(0));
  const key = await crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return `v1,${toBase64(new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(signedContent))))}`;
}

/** The three headers of one delivery attempt, signed with every secret given (space-separated). */
export async function webhookHeaders(secrets: string[], messageId: string, timestampSeconds: number, body: string) {
  const signedContent = `${messageId}.${timestampSeconds}.${body}`;
  const signatures = await Promise.all(secrets.map((secret) => signOne(secret, signedContent)));
  return { "webhook-id": messageId, "webhook-timestamp": String(timestampSeconds), "webhook-signature": signatures.join(" ") };
}

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}
