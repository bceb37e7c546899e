// The Playwright export is real when Playwright's own runner runs it: these tests post exports to
// a local runner (test/fixtures/playwright-runner.mjs: @playwright/test with Debian's Chromium)
// against the fixture site, and against the same site after a release that broke it.
import { describe, expect, it } from "vitest";
import { env } from "cloudflare:workers";
import { bootTenant, call, createSuiteWithCase, fixtureOrigin } from "./helpers/api";
import { sha256Hex } from "../src/auth/tokens";
import { artifactKeys } from "../src/storage/artifacts";

/** Every action of the step language, on the fixture site's home and about pages. */
const EVERY_ACTION = [
  { action: "goto", url: "/" },
  { action: "expectTitle", title: "Home" },
  { action: "expectVisible", target: { role: "link", name: "About" } },
  { action: "waitFor", target: { css: "#later" } },
  { action: "expectHidden", target: { text: "Going away" } },
  { action: "expectText", target: { testId: "greeting" }, text: "Hello there" },
  { action: "expectText", target: { css: "h1" }, text: "Welcome", exact: true },
  { action: "fill", target: { label: "Email" }, value: "a@b.co" },
  { action: "select", target: { label: "Country" }, value: "Germany" },
  { action: "check", target: { label: "Accept terms" } },
  { action: "fill", target: { label: "Search" }, value: "shoes" },
  { action: "press", target: { label: "Search" }, key: "Enter", timeoutMs: 8000 },
  { action: "expectText", target: { css: "#searched" }, text: "Searched: shoes", exact: true },
  { action: "screenshot", name: "home-filled" },
  { action: "expectNoConsoleErrors" },
  { action: "expectNoBrokenLinks" },
  { action: "click", target: { role: "link", name: "About" } },
  { action: "expectUrl", url: "/about" },
  { action: "expectTitle", title: "About" },
];

type Report = { suites: ReportSuite[] };
type ReportSuite = { title: string; suites?: ReportSuite[]; specs?: { title: string; tests: { results: { status: string; steps?: { title: string; error?: unknown }[]; errors: { message?: string }[] }[] }[] }[] };

/** Each test of a Playwright JSON report: its title, status, the step that failed and the first error. */
function testsOf(report: Report) {
  const found: { title: string; describe: string; status: string; failedStep: string | undefined; error: string | undefined }[] = [];
  const walk = (suite: ReportSuite, describe: string) => {
    for (const spec of suite.specs ?? []) {
      const result = spec.tests[0].results.at(-1)!;
      found.push({ title: spec.title, describe, status: result.status, failedStep: result.steps?.find((s) => s.error)?.title, error: result.errors[0]?.message });
    }
    for (const child of suite.suites ?? []) walk(child, child.title);
  };
  for (const file of report.suites) walk(file, "");
  return found;
}

async function runInPlaywright(workspace: string, exported: { fileName: string; spec: string; config: string }, baseUrl: string, updateSnapshots = false) {
  const res = await fetch(`${env.PLAYWRIGHT_RUNNER_ORIGIN}/run`, {
    method: "POST",
    body: JSON.stringify({ workspace, files: { [exported.fileName]: exported.spec, "playwright.config.ts": exported.config }, baseUrl, updateSnapshots }),
  });
  const answer = (await res.json()) as { exitCode: number; report: Report | null; output: string };
  if (!answer.report) throw new Error(`Playwright gave no report (exit ${answer.exitCode}):\n${answer.output}`);
  return { exitCode: answer.exitCode, tests: testsOf(answer.report), output: answer.output };
}

async function exportOf(token: string, suiteId: string) {
  const res = await call("GET", `/suites/${suiteId}/export/playwright`, { token });
  expect(res.status, res.text).toBe(200);
  return res.json as { suiteId: string; fileName: string; spec: string; config: string; generatedAt: string; sha256: string };
}

const renameSuite = (token: string, suiteId: string, name: string) => call("PATCH", `/suites/${suiteId}`, { token, body: { name } });

describe("the Playwright export", () => {
  it("runs in Playwright's own runner: every step action passes on the site, and the same spec fails naming the step once the site broke", async () => {
    const t = await bootTenant();
    const { suiteId } = await createSuiteWithCase(t.ciToken, t.projectId, EVERY_ACTION, "home page works end to end");
    await renameSuite(t.ciToken, suiteId, "Smoke tests");
    const exported = await exportOf(t.ciToken, suiteId);
    expect(exported).toMatchObject({ suiteId, fileName: "smoke-tests.spec.ts", sha256: await sha256Hex(exported.spec) });
    expect(exported.spec).toContain('import { test, expect, type Page } from "@playwright/test";');
    expect(exported.spec).toContain('page.getByRole("link", { name: "About", exact: true })');
    expect(exported.spec).toContain('await expect(page).toHaveScreenshot("home-filled.png", { fullPage: true });');
    expect(exported.spec).toContain('.press("Enter", { timeout: 8000 })');
    expect(exported.spec).not.toContain(fixtureOrigin()); // relative URLs stay relative
    expect(exported.config).toContain(`baseURL: process.env.BASE_URL ?? "${fixtureOrigin()}"`);

    // First run: the screenshot baselines are written (as a person would with --update-snapshots).
    const first = await runInPlaywright(`every-action-${suiteId}`, exported, fixtureOrigin(), true);
    expect(first.tests, first.output).toEqual([expect.objectContaining({ describe: "Smoke tests", title: "home page works end to end", status: "passed" })]);
    // Then as CI runs it: compared with those baselines, still passing.
    const second = await runInPlaywright(`every-action-${suiteId}`, exported, fixtureOrigin());
    expect([second.exitCode, second.tests[0].status], second.output).toEqual([0, "passed"]);

    // The release that changed the title and dropped the About link: Playwright fails at the step our runner fails at.
    const broken = await runInPlaywright(`every-action-${suiteId}`, exported, env.CHANGED_FIXTURE_ORIGIN);
    expect(broken.exitCode).toBe(1);
    expect(broken.tests[0]).toMatchObject({ status: "failed", failedStep: 'Step 2 (expectTitle) "Home"' });
    const ours = await call("POST", `/suites/${suiteId}/run`, { token: t.ciToken, body: { wait: true, baseUrl: env.CHANGED_FIXTURE_ORIGIN } });
    expect(ours.json.results[0]).toMatchObject({ status: "failed", failedStep: { index: 1, action: "expectTitle" } });
  });

  it("keeps our runner's meaning where Playwright's differs: an HTTP error page, console errors and broken links fail", async () => {
    const t = await bootTenant();
    const { suiteId } = await createSuiteWithCase(t.orgKey, t.projectId, [{ action: "goto", url: "/no-such-page" }], "a missing page");
    const errors = await call("POST", `/suites/${suiteId}/cases`, {
      token: t.orgKey,
      body: { name: "a clean page", steps: [{ action: "goto", url: "/about" }, { action: "expectNoConsoleErrors" }, { action: "expectNoBrokenLinks" }] },
    });
    expect(errors.status).toBe(201);
    const run = await runInPlaywright(`semantics-${suiteId}`, await exportOf(t.orgKey, suiteId), fixtureOrigin());
    const byTitle = Object.fromEntries(run.tests.map((test) => [test.title, test]));
    expect(byTitle["a missing page"]).toMatchObject({ status: "failed", failedStep: "Step 1 (goto) /no-such-page" });
    expect(byTitle["a missing page"].error).toContain("HTTP status of /no-such-page");
    expect(byTitle["a clean page"]).toMatchObject({ status: "passed" });
  });

  it("writes names and values as string literals, so a hostile case name cannot break or inject into the spec", async () => {
    const t = await bootTenant();
    const hostile = "`); process.exit(1) //";
    const quoted = 'He said "hi" \\ */ ${x}\u2028 and left';
    const { suiteId } = await createSuiteWithCase(t.ciToken, t.projectId, [{ action: "goto", url: "/" }, { action: "expectHidden", target: { text: quoted } }], hostile);
    await renameSuite(t.ciToken, suiteId, `*/ ${hostile}`);
    const exported = await exportOf(t.ciToken, suiteId);
    expect(exported.fileName).toBe("process-exit-1.spec.ts");
    // Had the name escaped its string, the runner would exit before writing a report, or run no test.
    const run = await runInPlaywright(`hostile-${suiteId}`, exported, fixtureOrigin());
    expect(run.tests, run.output).toEqual([{ describe: `*/ ${hostile}`, title: hostile, status: "passed", failedStep: undefined, error: undefined }]);
  });

  it("exports the suite a crawl generated, and that spec passes too", async () => {
    const t = await bootTenant();
    const triggered = await call("POST", "/ci/trigger", { token: t.ciToken, body: { crawl: true, wait: true, maxDepth: 1 } });
    expect(triggered.json.status, triggered.text).toBe("passed");
    const suites = await call("GET", `/projects/${t.projectId}/suites`, { token: t.ciToken });
    const exported = await exportOf(t.ciToken, suites.json.items[0].id);
    expect(exported.fileName).toBe("generated-from-crawls.spec.ts");
    const run = await runInPlaywright(`generated-${t.projectId}`, exported, fixtureOrigin());
    expect(run.tests.map((test) => [test.title, test.status]).sort(), run.output).toEqual([
      ["Form 1 on /", "passed"],
      ["Page /", "passed"],
      ["Page /about", "passed"],
    ]);
  });
});

describe("the stored export", () => {
  it("is served from R2 while the suite is unchanged, made anew when a case changes, and deleted with the suite", async () => {
    const t = await bootTenant();
    const { suiteId, caseId } = await createSuiteWithCase(t.ciToken, t.projectId, [{ action: "goto", url: "/" }]);
    const stored = async () => (await env.ARTIFACTS.list({ prefix: artifactKeys.playwrightExports(suiteId) })).objects.map((o) => o.key);

    const first = await exportOf(t.ciToken, suiteId);
    expect(await stored()).toHaveLength(1);
    expect(await exportOf(t.orgKey, suiteId)).toEqual(first);

    expect((await call("PATCH", `/cases/${caseId}`, { token: t.ciToken, body: { steps: [{ action: "goto", url: "/about" }] } })).status).toBe(200);
    const changed = await exportOf(t.ciToken, suiteId);
    expect(changed.sha256).not.toBe(first.sha256);
    expect(changed.spec).toContain('page.goto("/about")');
    expect(await stored()).toHaveLength(1); // the old one went

    expect((await call("DELETE", `/suites/${suiteId}`, { token: t.ciToken })).status).toBe(204);
    expect(await stored()).toEqual([]);
  });

  it("goes with its project when the project is deleted", async () => {
    const t = await bootTenant();
    const { suiteId } = await createSuiteWithCase(t.ciToken, t.projectId, [{ action: "goto", url: "/" }]);
    await exportOf(t.ciToken, suiteId);
    const stored = async () => (await env.ARTIFACTS.list({ prefix: artifactKeys.playwrightExports(suiteId) })).objects.length;
    expect(await stored()).toBe(1);
    expect((await call("DELETE", `/projects/${t.projectId}`, { token: t.orgKey })).status).toBe(204);
    expect(await stored()).toBe(0);
  });

  it("downloads as the spec file itself with ?download=true", async () => {
    const t = await bootTenant();
    const { suiteId } = await createSuiteWithCase(t.ciToken, t.projectId, [{ action: "goto", url: "/" }]);
    const exported = await exportOf(t.ciToken, suiteId);
    const file = await call("GET", `/suites/${suiteId}/export/playwright?download=true`, { token: t.ciToken });
    expect(file.status).toBe(200);
    expect(file.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(file.headers.get("content-disposition")).toBe('attachment; filename="suite.spec.ts"');
    expect(file.text).toBe(exported.spec);
  });

  it("is another tenant's 404, and refuses a malformed download flag", async () => {
    const a = await bootTenant("pro", "A");
    const b = await bootTenant("pro", "B");
    const { suiteId } = await createSuiteWithCase(a.ciToken, a.projectId, [{ action: "goto", url: "/" }]);
    for (const token of [b.orgKey, b.ciToken]) {
      expect((await call("GET", `/suites/${suiteId}/export/playwright`, { token })).status).toBe(404);
    }
    const bad = await call("GET", `/suites/${suiteId}/export/playwright?download=yes`, { token: a.ciToken });
    expect([bad.status, bad.json.code]).toEqual([400, "request.invalid"]);
  });
});
