// What links answer, asked from inside a page of their site (its cookies go along, and in
// scans the tab's request guard sees every request): the `expectNoBrokenLinks` step and a
// scan's check of the links it does not visit. Each judges the answers by its own rule.

/** A status (0: a redirect, not followed) or, when nothing came, why. */
export type LinkStatus = { url: string; status: number | null; error: string | null };

/**
 * Runs in the page: HEAD each URL (GET where HEAD is refused, its body left unread),
 * redirects not followed, `atOnce` at a time, each within `timeoutMs`. No named inner
 * functions: wrangler's bundle would wrap them in a helper the page does not have.
 */
export async function fetchStatuses(urls: string[], timeoutMs: number, atOnce: number): Promise<LinkStatus[]> {
  const results: { url: string; status: number | null; error: string | null }[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(atOnce, urls.length) }, async () => {
      while (next < urls.length) {
        const url = urls[next++];
        try {
          const init: RequestInit = { method: "HEAD", credentials: "same-origin", redirect: "manual", cache: "no-store", signal: AbortSignal.timeout(timeoutMs) };
          let res = await fetch(url, init);
          if (res.status === 405 || res.status === 501) {
            res = await fetch(url, { ...init, method: "GET" });
            void res.body?.cancel();
          }
          results.push({ url, status: res.type === "opaqueredirect" ? 0 : res.status, error: null });
        } catch (error) {
          results.push({ url, status: null, error: String(error).slice(0, 200) });
        }
      }
    }),
  );
  return results;
}
