// Browser Rendering sessions: reuse an idle one before launching, because the platform limits
// new browsers per minute and concurrent browsers per account. A session that served a run
// well is released (disconnected) for the next run; one that failed is closed.
import puppeteer, { type Browser } from "@cloudflare/puppeteer";

/** How long an idle session stays open for reuse (Browser Rendering's keep_alive, max 10 min). */
const KEEP_ALIVE_MS = 10 * 60 * 1000;

export type BrowserBinding = Parameters<typeof puppeteer.launch>[0];
export type SessionInfo = { sessionId: string; reused: boolean; startMs: number };

async function acquire(binding: BrowserBinding): Promise<{ browser: Browser; reused: boolean }> {
  const idle = (await puppeteer.sessions(binding)).filter((s) => !s.connectionId);
  for (const session of idle) {
    try {
      return { browser: await puppeteer.connect(binding, session.sessionId), reused: true };
    } catch {
      // Another consumer took it between listing and connecting; try the next.
    }
  }
  return { browser: await puppeteer.launch(binding, { keep_alive: KEEP_ALIVE_MS }), reused: false };
}

export async function withBrowserSession<T>(
  binding: BrowserBinding,
  work: (browser: Browser, session: SessionInfo) => Promise<T>,
): Promise<T> {
  const started = Date.now();
  const { browser, reused } = await acquire(binding);
  const session = { sessionId: browser.sessionId(), reused, startMs: Date.now() - started };
  let healthy = false;
  try {
    const result = await work(browser, session);
    healthy = true;
    return result;
  } finally {
    if (healthy && browser.connected) {
      await Promise.resolve(browser.disconnect()).catch(() => {});
    } else {
      await browser.close().catch(() => {});
    }
  }
}
