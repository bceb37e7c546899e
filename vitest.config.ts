// Tests run inside workerd (the workers pool) against real local D1, R2, Queues, Durable
// Objects and the local Browser Rendering binding (Debian's Chromium, set up by
// scripts/setup-local-browser.mjs), with fixture sites served on 127.0.0.1 by global-setup.
import path from "node:path";
import { defineConfig } from "vitest/config";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";

export default defineConfig(async () => {
  const migrations = await readD1Migrations(path.join(import.meta.dirname, "migrations"));
  return {
    plugins: [
      cloudflareTest(({ inject }) => ({
        main: "./src/index.ts",
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          bindings: {
            TEST_MIGRATIONS: migrations,
            FIXTURE_ORIGIN: `http://127.0.0.1:${inject("fixturePort" as never)}`,
            CRAWL_ORIGIN: `http://127.0.0.1:${inject("crawlPort" as never)}`,
            CRAWL_OTHER_ORIGIN: `http://127.0.0.1:${inject("crawlOtherPort" as never)}`,
            CHANGED_FIXTURE_ORIGIN: `http://127.0.0.1:${inject("changedFixturePort" as never)}`,
            PLAYWRIGHT_RUNNER_ORIGIN: `http://127.0.0.1:${inject("playwrightRunnerPort" as never)}`,
            GITHUB_API_URL: `http://127.0.0.1:${inject("githubPort" as never)}`,
            WEBHOOK_RECEIVER_ORIGIN: `http://127.0.0.1:${inject("webhookReceiverPort" as never)}`,
            ADMIN_TOKEN: "test-admin-token",
            LINK_SIGNING_SECRET: "test-link-signing-secret",
            CREDENTIAL_KEYS: "test1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
            PRIVATE_TARGET_ALLOWLIST: "127.0.0.1",
            PUBLIC_BASE_URL: "",
            CORS_ALLOWED_ORIGINS: "https://dashboard.example.com",
          },
        },
      })),
    ],
    test: {
      globalSetup: ["./test/global-setup.ts"],
      setupFiles: ["./test/apply-migrations.ts"],
      testTimeout: 60_000,
      hookTimeout: 60_000,
    },
  };
});
