// Browser Rendering sessions: reuse an idle one before launching, because the platform limits
// new browsers per minute and concurrent browsers per account. A session that served a run
// well is released (disconnected) for the next run; one that failed is closed.
import puppeteer, { type Browser } from "@cloudflare/puppeteer";
import { withTimeout } from "../timeouts";

/** How long an idle session stays open for reuse (Browser Rendering's keep_alive, max 10 min). */
const KEEP_ALIVE_MS = 10 * 60 * 1000;
const LAUNCH_ATTEMPTS = 3;
const HEALTH_CHECK_MS = 5000;
const LAUNCH_TIMEOUT_MS = 30_000;

export type BrowserBinding = Parameters<typeof puppeteer.launch>[0];
export type SessionInfo = { sessionId: string; reused: boolean; startMs: number };

/** The browser itself failed (crashed, disconnected, could not start): our fault, never the test's. */
export class BrowserFault extends Error {}

const FAULT_PATTERN = /Target closed|Session closed|Connection closed|Protocol error|Navigating frame was detached|browser has disconnected|WebSocket/i;

export function isBrowserFault(error: unknown): boolean {
  return error instanceof BrowserFault || (error instanceof Error && FAULT_PATTERN.test(error.message));
}

const bounded = <T>(promise: Promise<T>, ms: number, what: string): Promise<T> =>
  withTimeout(promise, ms, () => new BrowserFault(`${what} took longer than ${ms} ms`));

async function connectIdle(binding: BrowserBinding): Promise<Browser | null> {
  const sessions = await bounded(puppeteer.sessions(binding), HEALTH_CHECK_MS, "listing sessions").catch(() => []);
  const idle = sessions.filter((s) => !s.connectionId);
  for (const session of idle) {
    let browser: Browser | null = null;
    try {
      browser = await bounded(puppeteer.connect(binding, session.sessionId), HEALTH_CHECK_MS, "connecting to an idle session");
      await bounded(browser.version(), HEALTH_CHECK_MS, "checking an idle session");
      return browser;
    } catch {
      // Taken by another consumer meanwhile, or dead: close what we reached and try the next.
      await browser?.close().catch(() => {});
    }
  }
  return null;
}

async function launch(binding: BrowserBinding): Promise<Browser> {
  let lastError: unknown;
  for (let attempt = 1; attempt <= LAUNCH_ATTEMPTS; attempt++) {
    try {
      return await bounded(puppeteer.launch(binding, { keep_alive: KEEP_ALIVE_MS }), LAUNCH_TIMEOUT_MS, "launching a browser");
    } catch (error) {
      lastError = error;
      await new Promise((r) => setTimeout(r, 250 * 2 ** attempt));
    }
  }
  throw new BrowserFault(`could not start a browser: ${lastError instanceof Error ? lastError.message.split("\n")[0] : lastError}`);
}

export async function withBrowserSession<T>(
  binding: BrowserBinding,
  work: (browser: Browser, session: SessionInfo) => Promise<T>,
): Promise<T> {
  const started = Date.now();
  const idle = await connectIdle(binding);
  const browser = idle ?? (await launch(binding));
  const session = { sessionId: browser.sessionId(), reused: idle !== null, startMs: Date.now() - started };
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
