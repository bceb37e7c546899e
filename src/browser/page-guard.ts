// What a page may not do although request interception cannot see it. Interception
// (crawl-tab.ts, case-runner.ts) judges every request of a page and of its dedicated workers,
// but not:
// - WebSockets (Chromium 156 also ignores them in Network.setBlockedURLs: measured). The
//   socket guard judges their host by the URL policy's rules (isPrivateHost and the allowlist);
//   scans also confine them to the page's own host and port.
// - Service workers and shared workers: they run outside the page, and their requests are not
//   the page's (measured: their fetch to an address the policy refuses went through). Neither
//   runs: registering a service worker is refused (as Playwright's serviceWorkers: "block"),
//   constructing a SharedWorker throws. Pages load bypassing service workers anyway.
// The guards are installed in every frame before any script of the page runs, and the socket
// guard in each dedicated worker before its script runs, while it waits for the debugger.
import type { CDPSession, Page } from "@cloudflare/puppeteer";
import { isPrivateHost, type UrlPolicy } from "./url-policy";

export type GuardOptions = {
  policy: UrlPolicy;
  /** Scans: WebSockets only to the page's own host and port. Test runs may need a third party's. */
  ownHostOnly: boolean;
};

export async function guardPage(page: Page, cdp: CDPSession, options: GuardOptions): Promise<void> {
  const socketGuard = socketGuardSource(options);
  await page.evaluateOnNewDocument(socketGuard);
  await page.evaluateOnNewDocument(refuseOutsideWorkers);
  await guardDedicatedWorkers(cdp, socketGuard);
}

/**
 * Runs in a page or a worker, from its source: no named inner functions (wrangler's bundle
 * would wrap them in a helper the page does not have; see targets.ts).
 */
const guardWebSockets = (allowedPrivateHosts: string[], ownHostOnly: boolean, isPrivate: (host: string) => boolean) => {
  const scope = globalThis as typeof globalThis & { WebSocket?: typeof WebSocket };
  const Native = scope.WebSocket;
  if (!Native) return;
  scope.WebSocket = new Proxy(Native, {
    construct(target, args) {
      const url = new URL(String(args[0]), location.href);
      if (ownHostOnly && url.host !== location.host) {
        throw new DOMException(`WebSocket to ${url.host} refused: scans connect only to the page's own host`, "SecurityError");
      }
      const host = url.hostname.toLowerCase().replace(/^\[|\]$/g, "");
      if (isPrivate(host) && !allowedPrivateHosts.includes(host)) {
        throw new DOMException(`WebSocket to ${host} refused: a private, loopback or metadata address`, "SecurityError");
      }
      return Reflect.construct(target, args);
    },
  });
};

/** The socket guard as a script: its rules are url-policy.ts's own function, passed by its source. */
const socketGuardSource = ({ policy, ownHostOnly }: GuardOptions) =>
  `(${guardWebSockets.toString()})(${JSON.stringify([...policy.allowedPrivateHosts])}, ${ownHostOnly}, ${isPrivateHost.toString()});`;

/** Runs in the page: no named inner functions (a helper for the message would be one). */
const refuseOutsideWorkers = () => {
  if (typeof ServiceWorkerContainer !== "undefined") {
    ServiceWorkerContainer.prototype.register = () =>
      Promise.reject(new DOMException("Service worker registration refused: pages here run no workers outside the page", "SecurityError"));
  }
  if (typeof SharedWorker !== "undefined") {
    window.SharedWorker = new Proxy(SharedWorker, {
      construct() {
        throw new DOMException("SharedWorker refused: pages here run no workers outside the page", "SecurityError");
      },
    });
  }
};

/**
 * Attaches to each dedicated worker the page (or a worker) starts, paused before its script,
 * installs the socket guard, and lets it run. Other targets attached this way (frames of other
 * sites) are let run at once: they get the page guards as frames of the page.
 */
async function guardDedicatedWorkers(cdp: CDPSession, socketGuard: string): Promise<void> {
  cdp.on("Target.attachedToTarget", (event) => {
    const child = cdp.connection()?.session(event.sessionId);
    if (!child) return;
    void (async () => {
      if (event.targetInfo.type === "worker") {
        await child.send("Runtime.evaluate", { expression: socketGuard }).catch(() => {});
        await guardDedicatedWorkers(child, socketGuard).catch(() => {}); // a worker may start workers
      }
      await child.send("Runtime.runIfWaitingForDebugger").catch(() => {});
    })();
  });
  await cdp.send("Target.setAutoAttach", { autoAttach: true, waitForDebuggerOnStart: true, flatten: true });
}
