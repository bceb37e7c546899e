declare namespace Cloudflare {
  interface Env {
    TEST_MIGRATIONS: import("cloudflare:test").D1Migration[];
    FIXTURE_ORIGIN: string;
    CRAWL_ORIGIN: string;
    CRAWL_OTHER_ORIGIN: string;
    CHANGED_FIXTURE_ORIGIN: string;
    PLAYWRIGHT_RUNNER_ORIGIN: string;
    WEBHOOK_RECEIVER_ORIGIN: string;
  }
}

/** Vite's raw imports (the README, read by the test that holds its tables to the code). */
declare module "*?raw" {
  const text: string;
  export default text;
}
