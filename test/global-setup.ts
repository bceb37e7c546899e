// Starts the fixture sites (steps, crawler) on 127.0.0.1 for the whole test run, and stops browsers left behind.
import type { TestProject } from "vitest/node";
import { startFixtureSite } from "./fixtures/site.mjs";
import { startCrawlSite } from "./fixtures/crawl-site.mjs";
import { startPlaywrightRunner } from "./fixtures/playwright-runner.mjs";
import { startGitHubStandIn } from "./fixtures/github-stand-in.mjs";
import { startWebhookReceiver } from "./fixtures/webhook-receiver.mjs";
import { stopLocalBrowsers } from "../scripts/stop-local-browsers.mjs";

declare module "vitest" {
  export interface ProvidedContext {
    fixturePort: number;
    crawlPort: number;
    crawlOtherPort: number;
    changedFixturePort: number;
    playwrightRunnerPort: number;
    githubPort: number;
    webhookReceiverPort: number;
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
  const changedSite = await startFixtureSite(0, "127.0.0.1", { changed: true });
  project.provide("changedFixturePort", changedSite.port);
  const playwright = await startPlaywrightRunner();
  project.provide("playwrightRunnerPort", playwright.port);
  const github = await startGitHubStandIn();
  project.provide("githubPort", github.port);
  const receiver = await startWebhookReceiver();
  project.provide("webhookReceiverPort", receiver.port);
  return async () => {
    await site.close();
    await changedSite.close();
    await playwright.close();
    await github.close();
    await receiver.close();
    await crawlSite.close();
    stopLocalBrowsers(browserPids);
  };
}
