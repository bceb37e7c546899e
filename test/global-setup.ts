// Starts the fixture sites (steps, crawler) on 127.0.0.1 for the whole test run, and stops browsers left behind.
import type { TestProject } from "vitest/node";
import { startFixtureSite } from "./fixtures/site.mjs";
import { startCrawlSite } from "./fixtures/crawl-site.mjs";
import { stopLocalBrowsers } from "../scripts/stop-local-browsers.mjs";

declare module "vitest" {
  export interface ProvidedContext {
    fixturePort: number;
    crawlPort: number;
    crawlOtherPort: number;
  }
}

export default async function setup(project: TestProject) {
  // Browsers the pool starts record their PIDs here (see scripts/setup-local-browser.mjs).
  const browserPids = `${process.cwd()}/.wrangler/browser-pids-test-${process.pid}`;
  process.env.AEGIS_BROWSER_PIDS = browserPids;
  const site = await startFixtureSite(0);
  project.provide("fixturePort", site.port);
  const crawlSite = await startCrawlSite(0);
  project.provide("crawlPort", crawlSite.port);
  project.provide("crawlOtherPort", crawlSite.otherPort);
  return async () => {
    await site.close();
    await crawlSite.close();
    stopLocalBrowsers(browserPids);
  };
}
