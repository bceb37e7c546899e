// Absolute, signed links to what we show people: the run page (no expiry, it lives in PR
// comments and CI logs) and screenshots (expiring). Unsigned or altered links answer 404.
// LINK_SIGNING_SECRET may hold several secrets, comma-separated: the first signs, each verifies,
// so links made before a rotation keep working until their old secret is removed.
import { sign, verify } from "../auth/signing";

/** The secrets of LINK_SIGNING_SECRET, the signing one first. */
export const linkSecrets = (setting: string | undefined) => (setting ?? "").split(",").map((s) => s.trim()).filter(Boolean);

/** The secret new links are signed with. */
export const signingSecret = (setting: string | undefined) => linkSecrets(setting)[0] ?? "";

async function verifyAny(setting: string, message: string, sig: string | undefined) {
  for (const secret of linkSecrets(setting)) if (await verify(secret, message, sig)) return true;
  return false;
}

export type LinkSigner = { secret: string; origin: string };

export const SCREENSHOT_LINK_TTL_SECONDS = 7 * 24 * 3600;

export async function runPageUrl(signer: LinkSigner, runId: string) {
  return `${signer.origin}/runs/${runId}?sig=${await sign(signer.secret, `run:${runId}`)}`;
}

/** `secrets`: the LINK_SIGNING_SECRET setting, every secret of which may have signed the link. */
export const verifyRunPage = (secrets: string, runId: string, sig: string | undefined) => verifyAny(secrets, `run:${runId}`, sig);

export async function artifactUrl(signer: LinkSigner, key: string, nowMs: number) {
  const exp = Math.floor(nowMs / 1000) + SCREENSHOT_LINK_TTL_SECONDS;
  const sig = await sign(signer.secret, `artifact:${key}:${exp}`);
  return `${signer.origin}/artifacts/${key}?exp=${exp}&sig=${sig}`;
}

export async function verifyArtifact(secrets: string, key: string, exp: string | undefined, sig: string | undefined, nowMs: number) {
  if (!exp || !/^\d{1,12}$/.test(exp) || Number(exp) * 1000 < nowMs) return false;
  return verifyAny(secrets, `artifact:${key}:${exp}`, sig);
}

/** The signer for links made away from a request (reports, webhooks): PUBLIC_BASE_URL, else the origin the run was triggered on. */
export function signerForRun(links: { secret: string; publicBaseUrl: string }, run: { linkOrigin: string | null }): LinkSigner {
  const origin = links.publicBaseUrl ? links.publicBaseUrl.replace(/\/$/, "") : (run.linkOrigin ?? "http://localhost");
  return { secret: signingSecret(links.secret), origin };
}
