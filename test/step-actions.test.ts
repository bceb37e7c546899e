// Every action and target of the step language, run in the real browser against the fixture
// site: each passes when it should, and fails at a known step with a one-line reason when it
// should not. All passing cases go in one run and all failing cases in another, so the file
// costs two runs, not one per scenario.
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_STEP_TIMEOUT_MS, type Step } from "../src/schemas/steps";
import { artifactKeys } from "../src/storage/artifacts";
import { bootTenant, call, fixtureOrigin } from "./helpers/api";
import { pngSize } from "./helpers/png";

const origin = fixtureOrigin();

type Scenario = { name: string; steps: Step[] };
type FailingScenario = Scenario & { failsAt: { index: number; action: Step["action"] }; reason: string };

const home: Step = { action: "goto", url: "/" };
const controls: Step = { action: "goto", url: "/controls" };

const passing: Scenario[] = [
  { name: "goto loads a page and expectTitle reads its title", steps: [home, { action: "expectTitle", title: "Home" }] },
  {
    name: "a role with a name finds the link that click follows",
    steps: [
      home,
      { action: "click", target: { role: "link", name: "About" } },
      { action: "expectUrl", url: "/about" },
      { action: "expectTitle", title: "About" },
      { action: "expectText", target: { css: "h1" }, text: "About us", exact: true },
    ],
  },
  {
    name: "fill, select by value, check and a submit click reach /done with the summary",
    steps: [
      home,
      { action: "fill", target: { label: "Email" }, value: "ada@example.com" },
      { action: "select", target: { label: "Country" }, value: "de" },
      { action: "check", target: { label: "Accept terms" } },
      { action: "click", target: { role: "button", name: "Submit" } },
      { action: "expectUrl", url: "/done?email=ada%40example.com&country=de&terms=yes" },
      { action: "expectText", target: { css: "#summary" }, text: "Thanks, ada@example.com from de; terms accepted", exact: true },
    ],
  },
  {
    name: "select by option label picks that option and check leaves a checked box checked",
    steps: [
      home,
      { action: "select", target: { label: "Country" }, value: "Germany" },
      { action: "check", target: { label: "Accept terms" } },
      { action: "check", target: { label: "Accept terms" } },
      { action: "click", target: { role: "button" } },
      { action: "expectText", target: { css: "#summary" }, text: "from de; terms accepted" },
    ],
  },
  {
    name: "fill and press Enter on the Search box (aria-label) change the searched text",
    steps: [
      home,
      { action: "fill", target: { label: "Search" }, value: "edge tests" },
      { action: "press", target: { label: "Search" }, key: "Enter" },
      { action: "expectText", target: { css: "#searched" }, text: "Searched: edge tests", exact: true },
    ],
  },
  {
    name: "fill through an aria-labelledby label fires the input event",
    steps: [
      controls,
      { action: "fill", target: { label: "Nickname" }, value: "Ada" },
      { action: "expectText", target: { css: "#echo" }, text: "Nickname: Ada", exact: true },
    ],
  },
  {
    name: "a text target (ignoring case and spacing) and a testId target find the greeting",
    steps: [
      home,
      { action: "expectVisible", target: { text: "Hello there" } },
      { action: "expectText", target: { text: "hello   THERE" }, text: "Hello there, visitor", exact: true },
      { action: "expectText", target: { testId: "greeting" }, text: "Hello there, visitor", exact: true },
    ],
  },
  {
    name: "waitFor waits for an element shown after 300 ms",
    steps: [
      home,
      { action: "waitFor", target: { css: "#later" } },
      { action: "expectText", target: { css: "#later" }, text: "Appeared later", exact: true },
    ],
  },
  {
    name: "expectHidden passes for an element removed after 300 ms, one never shown and one that does not exist",
    steps: [
      home,
      { action: "expectHidden", target: { css: "#going" } },
      { action: "expectHidden", target: { testId: "no-such-element" } },
      controls,
      { action: "expectHidden", target: { css: "#never" } },
    ],
  },
  { name: "screenshot stores a named PNG", steps: [home, { action: "screenshot", name: "home-page" }] },
];

const failing: FailingScenario[] = [
  {
    name: "goto of a missing page fails on its HTTP status",
    steps: [{ action: "goto", url: "/missing" }],
    failsAt: { index: 0, action: "goto" },
    reason: `Step 1 (goto): ${origin}/missing answered HTTP 404`,
  },
  {
    name: "click of a link that does not exist fails naming the role and name",
    steps: [home, { action: "click", target: { role: "link", name: "Pricing" }, timeoutMs: 300 }],
    failsAt: { index: 1, action: "click" },
    reason: 'Step 2 (click): no element matched role=link name="Pricing" within 300 ms',
  },
  {
    name: "fill of a heading fails because it is not editable",
    steps: [home, { action: "fill", target: { css: "h1" }, value: "x" }],
    failsAt: { index: 1, action: "fill" },
    reason: "Step 2 (fill): the target is not an input, textarea or contenteditable element",
  },
  {
    name: "fill of a disabled input fails",
    steps: [controls, { action: "fill", target: { label: "Locked" }, value: "x" }],
    failsAt: { index: 1, action: "fill" },
    reason: "Step 2 (fill): the target is disabled or read-only",
  },
  {
    name: "press of a key that does not exist fails naming the key",
    steps: [home, { action: "press", target: { label: "Search" }, key: "Entr" }],
    failsAt: { index: 1, action: "press" },
    reason: 'Step 2 (press): Unknown key: "Entr"',
  },
  {
    name: "select of an option the list does not have fails",
    steps: [home, { action: "select", target: { label: "Country" }, value: "France" }],
    failsAt: { index: 1, action: "select" },
    reason: 'Step 2 (select): label="Country" has no option "France"',
  },
  {
    name: "select on an input that is not a select fails",
    steps: [home, { action: "select", target: { css: "#email" }, value: "de" }],
    failsAt: { index: 1, action: "select" },
    reason: 'Step 2 (select): css="#email" is not a <select>',
  },
  {
    name: "check of something that cannot be checked fails",
    steps: [home, { action: "check", target: { css: "h1" } }],
    failsAt: { index: 1, action: "check" },
    reason: 'Step 2 (check): css="h1" did not become checked',
  },
  {
    name: "waitFor of an element that stays hidden fails as found but not visible",
    steps: [controls, { action: "waitFor", target: { css: "#never" }, timeoutMs: 800 }],
    failsAt: { index: 1, action: "waitFor" },
    reason: 'Step 2 (waitFor): css="#never" was found but not visible within 800 ms',
  },
  {
    name: "expectVisible of a missing element fails within its own timeoutMs and runs no later step",
    steps: [
      home,
      { action: "expectVisible", target: { css: "#missing" }, timeoutMs: 300 },
      { action: "screenshot", name: "after-the-failure" },
    ],
    failsAt: { index: 1, action: "expectVisible" },
    reason: 'Step 2 (expectVisible): no element matched css="#missing" within 300 ms',
  },
  {
    name: "expectVisible of a missing label names the label",
    steps: [home, { action: "expectVisible", target: { label: "Phone" }, timeoutMs: 300 }],
    failsAt: { index: 1, action: "expectVisible" },
    reason: 'Step 2 (expectVisible): no element matched label="Phone" within 300 ms',
  },
  {
    name: "expectVisible of missing text names the text",
    steps: [home, { action: "expectVisible", target: { text: "Goodbye" }, timeoutMs: 300 }],
    failsAt: { index: 1, action: "expectVisible" },
    reason: 'Step 2 (expectVisible): no element matched text="Goodbye" within 300 ms',
  },
  {
    name: "expectHidden of a visible element fails",
    steps: [home, { action: "expectHidden", target: { css: "h1" }, timeoutMs: 800 }],
    failsAt: { index: 1, action: "expectHidden" },
    reason: 'Step 2 (expectHidden): css="h1" was still visible after 800 ms',
  },
  {
    name: "expectText fails when the text is not contained",
    steps: [home, { action: "expectText", target: { css: "h1" }, text: "Goodbye", timeoutMs: 800 }],
    failsAt: { index: 1, action: "expectText" },
    reason: 'Step 2 (expectText): expected css="h1" to contain "Goodbye", found "Welcome"',
  },
  {
    name: "expectText with exact fails on a mere substring",
    steps: [
      home,
      { action: "expectText", target: { css: "h1" }, text: "Welc" },
      { action: "expectText", target: { css: "h1" }, text: "Welc", exact: true, timeoutMs: 800 },
    ],
    failsAt: { index: 2, action: "expectText" },
    reason: 'Step 3 (expectText): expected css="h1" to be "Welc", found "Welcome"',
  },
  {
    name: "expectText of a missing element fails as not matched",
    steps: [home, { action: "expectText", target: { css: "#missing" }, text: "x", timeoutMs: 300 }],
    failsAt: { index: 1, action: "expectText" },
    reason: 'Step 2 (expectText): no element matched css="#missing" within 300 ms',
  },
  {
    name: "expectUrl fails on another page and shows both URLs",
    steps: [home, { action: "expectUrl", url: "/about", timeoutMs: 800 }],
    failsAt: { index: 1, action: "expectUrl" },
    reason: `Step 2 (expectUrl): expected URL ${origin}/about, found ${origin}/`,
  },
  {
    name: "expectTitle fails on another title and shows both",
    steps: [home, { action: "expectTitle", title: "Homepage", timeoutMs: 800 }],
    failsAt: { index: 1, action: "expectTitle" },
    reason: 'Step 2 (expectTitle): expected title "Homepage", found "Home"',
  },
];

type CaseResult = {
  caseId: string;
  caseName: string;
  status: string;
  durationMs: number;
  failedStep: { index: number; action: string } | null;
  reason: string | null;
  screenshotUrl: string | null;
};
type RunAnswer = { status: number; runId: string; byName: Map<string, CaseResult> };

/** One suite holding every scenario as a case, run once with wait: true. */
async function runScenarios(ciToken: string, projectId: string, suiteName: string, scenarios: Scenario[]): Promise<RunAnswer> {
  const suite = await call("POST", `/projects/${projectId}/suites`, { token: ciToken, body: { name: suiteName } });
  if (suite.status !== 201) throw new Error(`suite: ${suite.status} ${suite.text}`);
  for (const { name, steps } of scenarios) {
    const created = await call("POST", `/suites/${suite.json.id}/cases`, { token: ciToken, body: { name, steps } });
    if (created.status !== 201) throw new Error(`case "${name}": ${created.status} ${created.text}`);
  }
  const res = await call("POST", "/ci/trigger", { token: ciToken, body: { wait: true, suiteIds: [suite.json.id] } });
  const results: CaseResult[] = res.json?.results ?? [];
  return { status: res.status, runId: res.json?.runId, byName: new Map(results.map((r) => [r.caseName, r])) };
}

describe("the step language in a real browser", () => {
  let passed: RunAnswer;
  let failed: RunAnswer;

  beforeAll(async () => {
    const t = await bootTenant();
    [passed, failed] = await Promise.all([
      runScenarios(t.ciToken, t.projectId, "Passing actions", passing),
      runScenarios(t.ciToken, t.projectId, "Failing actions", failing),
    ]);
  });

  it("runs every passing scenario as one passed run", () => {
    expect(passed.status).toBe(200);
    expect([...passed.byName.keys()].sort()).toEqual(passing.map((s) => s.name).sort());
  });

  it.each(passing.map((s) => [s.name]))("passes: %s", (name) => {
    const result = passed.byName.get(name);
    expect(result, `no result for "${name}"`).toBeDefined();
    expect(result).toMatchObject({ status: "passed", failedStep: null, reason: null, screenshotUrl: null });
  });

  it("stores the screenshot action's PNG in R2 under the case's key", async () => {
    const caseId = passed.byName.get("screenshot stores a named PNG")?.caseId;
    expect(caseId).toEqual(expect.any(String));
    const object = await env.ARTIFACTS.get(artifactKeys.stepScreenshot(passed.runId, caseId ?? "", "home-page"));
    expect(object, "no screenshot stored").not.toBeNull();
    expect(object?.httpMetadata?.contentType).toBe("image/png");
    // The whole page at the run's desktop width (the home page is shorter than the 800 px viewport).
    expect(pngSize((await object?.arrayBuffer()) ?? new ArrayBuffer(0))).toEqual({ width: 1280, height: 800 });
  });

  it("runs every failing scenario as one failed run", () => {
    expect(failed.status).toBe(422);
    expect([...failed.byName.keys()].sort()).toEqual(failing.map((s) => s.name).sort());
  });

  it.each(failing.map((s) => [s.name, s] as const))("fails with a one-line reason: %s", (name, scenario) => {
    const result = failed.byName.get(name);
    expect(result, `no result for "${name}"`).toBeDefined();
    expect(result).toMatchObject({ status: "failed", failedStep: scenario.failsAt, reason: scenario.reason });
    expect(result?.reason).not.toContain("\n");
    expect(result?.screenshotUrl).toEqual(expect.any(String));
  });

  it("ends a failing case at the failed step, within that step's timeoutMs", async () => {
    const result = failed.byName.get("expectVisible of a missing element fails within its own timeoutMs and runs no later step");
    expect(result?.reason).toContain("within 300 ms");
    expect(result?.durationMs).toBeLessThan(DEFAULT_STEP_TIMEOUT_MS);
    const later = await env.ARTIFACTS.head(artifactKeys.stepScreenshot(failed.runId, result?.caseId ?? "", "after-the-failure"));
    expect(later, "a step after the failure ran").toBeNull();
  });
});
