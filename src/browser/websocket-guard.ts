// Request interception does not see WebSockets (Chromium 156 also ignores them in
// Network.setBlockedURLs: measured), so a page could open one to any address. In scans a page
// may open WebSockets only to its own host and port, which the URL policy has already judged.
// The guard is installed in every frame before any script of the page runs. Known limit: a
// web worker's own WebSocket is not wrapped.
import type { Page } from "@cloudflare/puppeteer";

export async function confineWebSockets(page: Page): Promise<void> {
  // Runs in the page: no named inner functions (see targets.ts).
  await page.evaluateOnNewDocument(() => {
    const Native = window.WebSocket;
    window.WebSocket = new Proxy(Native, {
      construct(target, args) {
        const url = new URL(String(args[0]), location.href);
        if (url.host !== location.host) {
          throw new DOMException(`WebSocket to ${url.host} refused: scans connect only to the page's own host`, "SecurityError");
        }
        return Reflect.construct(target, args);
      },
    });
  });
}
