// What a scanned page may not do although request interception (crawl-tab.ts) cannot see it.
// Interception judges every request of a page and of its dedicated workers, but not:
// - WebSockets (Chromium 156 also ignores them in Network.setBlockedURLs: measured). A page and
//   its dedicated workers may open them only to their own host and port, which the URL policy
//   has already judged.
// - Service workers and shared workers: they run outside the page, and their requests are not
//   the page's (measured: their fetch to an address the policy refuses went through). Scans do
//   not run them: registering a service worker is refused, constructing a SharedWorker throws.
//   A crawl loses nothing by it: pages are loaded bypassing service workers anyway.
// The page guard is installed in every frame before any script of the page runs; the worker
// guard in each dedicated worker before its script runs, while it waits for the debugger.
// Test runs refuse service and shared workers too, and leave WebSockets alone (see below).
import type { CDPSession, Page } from "@cloudflare/puppeteer";

/** Runs in a page or a worker: no named inner functions (see targets.ts). */
const confineWebSockets = () => {
  const scope = globalThis as typeof globalThis & { WebSocket: typeof WebSocket };
  const Native = scope.WebSocket;
  if (!Native) return;
  scope.WebSocket = new Proxy(Native, {
    construct(target, args) {
      const url = new URL(String(args[0]), location.href);
      if (url.host !== location.host) {
        throw new DOMException(`WebSocket to ${url.host} refused: scans connect only to the page's own host`, "SecurityError");
      }
      return Reflect.construct(target, args);
    },
  });
};

/** Runs in the page: no named inner functions (a helper for the message would be one). */
const refuseOutsideWorkers = () => {
  if (typeof ServiceWorkerContainer !== "undefined") {
    ServiceWorkerContainer.prototype.register = () =>
      Promise.reject(new DOMException("Service worker registration refused: scans do not run workers outside the page", "SecurityError"));
  }
  if (typeof SharedWorker !== "undefined") {
    window.SharedWorker = new Proxy(SharedWorker, {
      construct() {
        throw new DOMException("SharedWorker refused: scans do not run workers outside the page", "SecurityError");
      },
    });
  }
};

/** A scan's page: WebSockets to its own host only, in the page and its dedicated workers; no service or shared workers. */
export async function guardPage(page: Page, cdp: CDPSession): Promise<void> {
  await page.evaluateOnNewDocument(confineWebSockets);
  await refuseWorkersOutsidePage(page);
  await guardDedicatedWorkers(cdp);
}

/**
 * A test run's page: no service or shared workers (as Playwright's `serviceWorkers: "block"`),
 * WebSockets left alone, since an app under test may need a third party's.
 */
export async function refuseWorkersOutsidePage(page: Page): Promise<void> {
  await page.evaluateOnNewDocument(refuseOutsideWorkers);
}

const WORKER_GUARD = `(${confineWebSockets.toString()})()`;

/**
 * Attaches to each dedicated worker the page (or a worker) starts, paused before its script,
 * guards it, and lets it run. Other targets attached this way (frames of other sites) are let
 * run at once: they have their own page guard.
 */
async function guardDedicatedWorkers(cdp: CDPSession): Promise<void> {
  cdp.on("Target.attachedToTarget", (event) => {
    const child = cdp.connection()?.session(event.sessionId);
    if (!child) return;
    void (async () => {
      if (event.targetInfo.type === "worker") {
        await child.send("Runtime.evaluate", { expression: WORKER_GUARD }).catch(() => {});
        await guardDedicatedWorkers(child).catch(() => {}); // a worker may start workers
      }
      await child.send("Runtime.runIfWaitingForDebugger").catch(() => {});
    })();
  });
  await cdp.send("Target.setAutoAttach", { autoAttach: true, waitForDebuggerOnStart: true, flatten: true });
}
