// The one decision both request guards make: may this request of a page go out under the URL
// policy? The step runner's guard (case-runner.ts) acts on it alone; a crawl's tab (crawl-tab.ts)
// adds its own rules after it (credentials to the origin only, the byte budget, no fonts or media).
import { judgeUrl, type UrlPolicy } from "./url-policy";

/** data:, blob: and about: load nothing from a network: they pass without a policy check. */
const PASSIVE_SCHEMES = /^(data|blob|about):/;
/** The browser asks for /favicon.ico on its own. */
const FAVICON = /^https?:\/\/[^/]+\/favicon\.ico$/;

/** `passive`: a URL of a passive scheme, which needs no further check either. */
export type RequestVerdict = { allowed: true; passive: boolean } | { allowed: false; reason: string };

export function judgeRequest(policy: UrlPolicy, url: string): RequestVerdict {
  if (PASSIVE_SCHEMES.test(url)) return { allowed: true, passive: true };
  const verdict = judgeUrl(policy, url);
  return verdict.allowed ? { allowed: true, passive: false } : verdict;
}

/** Whether a URL is the browser's own favicon request: its failure is not the page's doing. */
export function isBrowserFavicon(url: string): boolean {
  return FAVICON.test(url);
}
