// The devices a crawl can look like. Both keep the browser's own engine and version in the user
// agent (the site sees the Chromium that renders it) and add our product token, which is also
// the name robots.txt rules address.
import type { Page } from "@cloudflare/puppeteer";

export const CRAWLER_TOKEN = "AegisBot";
const CRAWLER_PRODUCT = `${CRAWLER_TOKEN}/1.0`;

export type Device = "desktop" | "mobile";

export const DEVICE_VIEWPORTS = {
  desktop: { width: 1280, height: 800, deviceScaleFactor: 1, isMobile: false, hasTouch: false },
  // A current mid-size phone (Pixel 7's CSS viewport).
  mobile: { width: 412, height: 915, deviceScaleFactor: 2.625, isMobile: true, hasTouch: true },
} as const;

/** The user agent a crawl sends, from the browser's own (`HeadlessChrome/126.0.6478.182` → Chrome 126). */
export function userAgentFor(device: Device, browserUserAgent: string): string {
  if (device === "desktop") return `${browserUserAgent} ${CRAWLER_PRODUCT}`;
  const major = browserUserAgent.match(/Chrome\/(\d+)/)?.[1] ?? "126";
  // Chrome's reduced mobile user agent: Android and model are frozen to "10; K".
  return `Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${major}.0.0.0 Mobile Safari/537.36 ${CRAWLER_PRODUCT}`;
}

export async function emulateDevice(page: Page, device: Device, browserUserAgent: string): Promise<void> {
  const major = browserUserAgent.match(/Chrome\/(\d+)/)?.[1] ?? "126";
  await page.setViewport(DEVICE_VIEWPORTS[device]);
  await page.setUserAgent(userAgentFor(device, browserUserAgent), {
    brands: [
      { brand: "Chromium", version: major },
      { brand: "Not=A?Brand", version: "24" },
    ],
    fullVersion: `${major}.0.0.0`,
    platform: device === "mobile" ? "Android" : "Linux",
    platformVersion: device === "mobile" ? "10.0.0" : "",
    architecture: device === "mobile" ? "" : "x86",
    model: device === "mobile" ? "K" : "",
    mobile: device === "mobile",
  });
}
