declare namespace Cloudflare {
  interface Env {
    TEST_MIGRATIONS: import("cloudflare:test").D1Migration[];
    FIXTURE_ORIGIN: string;
    CRAWL_ORIGIN: string;
    CRAWL_OTHER_ORIGIN: string;
  }
}
