#!/usr/bin/env node
// `npm run -s secrets:generate`: strong values for the Worker's secrets, one NAME=value line each,
// ready for `wrangler secret put NAME --env <env>` (paste the value when asked) or, whole, for
// `wrangler secret bulk --env <env>` on stdin. Nothing is written anywhere.
//   --only NAME   print that one value alone (for rotation: `--only CREDENTIAL_KEYS` is one new key entry)
// Uses Web Crypto only, so test/deploy.test.ts imports generateSecrets() inside workerd.

/** Random bytes as base64url without padding: 32 bytes make 43 characters. */
function randomText(bytes = 32) {
  const raw = crypto.getRandomValues(new Uint8Array(bytes));
  return btoa(String.fromCharCode(...raw)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/**
 * One CREDENTIAL_KEYS entry, `keyId:base64(32 bytes)`. The id says when the key was made (and a
 * random tail keeps two made the same day apart), so a ring's entries read oldest-to-newest.
 */
export function newCredentialKey(now = new Date()) {
  const day = now.toISOString().slice(0, 10).replaceAll("-", "");
  const tail = Array.from(crypto.getRandomValues(new Uint8Array(2)), (b) => b.toString(16).padStart(2, "0")).join("");
  const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
  return `k${day}-${tail}:${key}`;
}

export function generateSecrets(now = new Date()) {
  return {
    ADMIN_TOKEN: randomText(),
    LINK_SIGNING_SECRET: randomText(),
    CREDENTIAL_KEYS: newCredentialKey(now),
  };
}

const invokedDirectly = typeof process !== "undefined" && process.argv?.[1] && import.meta.url === new URL(process.argv[1], "file://").href;

if (invokedDirectly) {
  const [flag, name, ...rest] = process.argv.slice(2);
  const secrets = generateSecrets();
  if (flag === undefined) {
    console.error("# Set each with: npx wrangler secret put NAME --env <staging|production>  (paste the value after =)");
    console.error("# Keep all three in your password manager: Cloudflare never shows a secret again, and a rotation needs the current value.");
    for (const [key, value] of Object.entries(secrets)) console.log(`${key}=${value}`);
  } else if (flag === "--only" && name in secrets && rest.length === 0) {
    console.log(secrets[name]);
  } else {
    console.error(`usage: npm run -s secrets:generate [-- --only ${Object.keys(secrets).join("|")}]`);
    process.exit(1);
  }
}
