// Absolute, signed links to what we show people: the run page (no expiry, it lives in PR
// comments and CI logs) and screenshots (expiring). Unsigned or altered links answer 404.
import { sign, verify } from "../auth/signing";

export type LinkSigner = { secret: string; origin: string };

export const SCREENSHOT_LINK_TTL_SECONDS = 7 * 24 * 3600;

export async function runPageUrl(signer: LinkSigner, runId: string) {
  return `${signer.origin}/runs/${runId}?sig=${await sign(signer.secret, `run:${runId}`)}`;
}

export const verifyRunPage = (secret: string, runId: string, sig: string | undefined) => verify(secret, `run:${runId}`, sig);

export async function artifactUrl(signer: LinkSigner, key: string, nowMs: number) {
  const exp = Math.floor(nowMs / 1000) + SCREENSHOT_LINK_TTL_SECONDS;
  const sig = await sign(signer.secret, `artifact:${key}:${exp}`);
  return `${signer.origin}/artifacts/${key}?exp=${exp}&sig=${sig}`;
}

export async function verifyArtifact(secret: string, key: string, exp: string | undefined, sig: string | undefined, nowMs: number) {
  if (!exp || !/^\d{1,12}$/.test(exp) || Number(exp) * 1000 < nowMs) return false;
  return verify(secret, `artifact:${key}:${exp}`, sig);
}

/** The signer for links made away from a request (reports, webhooks): PUBLIC_BASE_URL, else the origin the run was triggered on. */
export function signerForRun(links: { secret: string; publicBaseUrl: string }, run: { linkOrigin: string | null }): LinkSigner {
  const origin = links.publicBaseUrl ? links.publicBaseUrl.replace(/\/$/, "") : (run.linkOrigin ?? "http://localhost");
  return { secret: links.secret, origin };
}
