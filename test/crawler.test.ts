// The crawler engine against the crawl fixture site (test/fixtures/crawl-site.mjs) in the real
// local Chromium: which pages a crawl visits under each limit, what it records about them, which
// forms it submits, how it logs in, and that credentials and visits never reach another origin.
// One browser serves the whole file; each crawl gets its own context, as in production.
import puppeteer, { type Browser } from "@cloudflare/puppeteer";
import { env } from "cloudflare:workers";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { crawlSite, CrawlOptionsError, type CrawlEvent, type CrawlOptions, type CrawlResult, type PageRecord } from "../src/browser/crawler";
import { refusal, type RawForm } from "../src/browser/forms";
import { urlPolicyFrom } from "../src/browser/url-policy";
import { API_KEY, BEARER_TOKEN, LOGIN, PRESET_SESSION } from "./fixtures/crawl-site.mjs";
import { pngSize } from "./helpers/png";

const origin = env.CRAWL_ORIGIN;
const other = env.CRAWL_OTHER_ORIGIN;

type Crawled = { result: CrawlResult; records: PageRecord[]; events: CrawlEvent[]; elapsedMs: number };
type OtherRequest = { method: string; path: string; dest: string | null; authorization: string | null; cookie: string | null; apiKey: string | null };
type SiteStats = { submissions: Record<string, number>; logins: { ok: number; failed: number }; requests: { method: string; path: string }[] };

let browser: Browser;

beforeAll(async () => {
  browser = await puppeteer.launch(env.BROWSER);
});

afterAll(async () => {
  await browser?.close().catch(() => {});
});

beforeEach(async () => {
  await Promise.all([fetch(`${origin}/__reset`), fetch(`${other}/__reset`)]);
});

function options(overrides: Partial<CrawlOptions> = {}): CrawlOptions {
  return {
    startUrl: `${origin}/`,
    maxPages: 100,
    maxDepth: 10,
    timeBudgetMs: 60_000,
    concurrency: 4,
    respectRobots: true,
    device: "desktop",
    fillForms: false,
    policy: urlPolicyFrom("127.0.0.1"),
    maxBytesPerPage: 5_000_000,
    ...overrides,
  };
}

async function crawl(overrides: Partial<CrawlOptions> = {}, shouldStop: (records: PageRecord[]) => boolean = () => false): Promise<Crawled> {
  const records: PageRecord[] = [];
  const events: CrawlEvent[] = [];
  const started = Date.now();
  const result = await crawlSite(browser, options(overrides), {
    onPage: async (record) => void records.push(record),
    onEvent: async (event) => void events.push(event),
    onBrokenLinks: async (url, brokenLinks) => {
      const record = records.find((r) => r.url === url);
      if (!record) throw new Error(`onBrokenLinks for ${url}, which was not recorded`);
      record.brokenLinks = brokenLinks;
    },
    shouldStop: async () => shouldStop(records),
  });
  return { result, records, events, elapsedMs: Date.now() - started };
}

const path = (url: string) => (url.startsWith(origin) ? url.slice(origin.length) : url);
const visited = (records: PageRecord[]) => records.map((r) => path(r.url)).sort();
const byPath = (records: PageRecord[], p: string) => {
  const record = records.find((r) => path(r.url) === p);
  if (!record) throw new Error(`no record of ${p} among ${visited(records).join(", ")}`);
  return record;
};
const otherLog = async (): Promise<OtherRequest[]> => (await fetch(`${other}/__log`)).json();
const siteStats = async (): Promise<SiteStats> => (await fetch(`${origin}/__stats`)).json();

const LEVEL_1 = [
  "/about", "/docs/", "/contact", "/old-page", "/missing", "/broken", "/console-error", "/private/open",
  "/account/", "/api-area/", "/settings", "/loop/a", "/go-away", "/device",
];
const DEFAULT_PAGES = [
  "/", ...LEVEL_1, "/docs/guide", "/loop/b", "/docs/guide/advanced", "/docs/guide/advanced/deep", "/docs/guide/advanced/deep/deeper",
].sort();

describe("a default crawl of the site", () => {
  let run: Crawled;
  let othersSaw: OtherRequest[];
  beforeAll(async () => {
    await Promise.all([fetch(`${origin}/__reset`), fetch(`${other}/__reset`)]);
    run = await crawl();
    othersSaw = await otherLog();
  });

  it("visits every same-origin page once, breadth first, and ends on its own", () => {
    expect(visited(run.records)).toEqual(DEFAULT_PAGES);
    expect(run.result).toMatchObject({ pagesVisited: DEFAULT_PAGES.length, stoppedBy: "done" });
    expect(byPath(run.records, "/").depth).toBe(0);
    for (const p of LEVEL_1) expect(byPath(run.records, p).depth).toBe(1);
    expect(byPath(run.records, "/docs/guide/advanced/deep/deeper").depth).toBe(5);
  });

  it("normalises links: fragments, the host's case and non-http links do not make new pages", () => {
    const home = byPath(run.records, "/");
    const links = home.links.map((l) => path(l.url));
    expect(links).toContain("/about");
    expect(links.filter((l) => l.startsWith("/about"))).toEqual(["/about"]);
    expect(links.some((l) => /^(mailto|tel|javascript):/.test(l) || l.includes("#"))).toBe(false);
    expect(links).toContain("/"); // "#main" is the page itself
    expect(byPath(run.records, "/about").links.map((l) => path(l.url))).toEqual(["/", "/docs/guide", "/about"]);
  });

  it("records a redirect chain and the page it ends on, and does not visit that page again", () => {
    const moved = byPath(run.records, "/old-page");
    expect(moved).toMatchObject({ status: 200, finalUrl: `${origin}/news`, title: "News" });
    expect(moved.redirectChain).toEqual([`${origin}/old-page`, `${origin}/moved`]);
    expect(visited(run.records)).not.toContain("/news");
    expect(byPath(run.records, "/account/")).toMatchObject({ status: 200, finalUrl: `${origin}/login?next=%2Faccount%2F`, title: "Sign in" });
  });

  it("reports the 404, the 500 and the 401 as broken links of the page that links them", () => {
    expect(byPath(run.records, "/missing").status).toBe(404);
    expect(byPath(run.records, "/broken").status).toBe(500);
    const broken = run.result.brokenLinks.map((b) => ({ url: path(b.url), status: b.status, foundOn: b.foundOn.map(path) }));
    expect(broken.sort((a, b) => a.url.localeCompare(b.url))).toEqual([
      { url: "/api-area/", status: 401, foundOn: ["/"] },
      { url: "/broken", status: 500, foundOn: ["/"] },
      { url: "/missing", status: 404, foundOn: ["/"] },
    ]);
    // The start page was recorded before the pages it links: its list is completed afterwards.
    const ofHome = byPath(run.records, "/").brokenLinks.map((l) => ({ url: path(l.url), status: l.status, reason: l.reason }));
    expect(ofHome.sort((a, b) => a.url.localeCompare(b.url))).toEqual([
      { url: "/api-area/", status: 401, reason: "HTTP 401" },
      { url: "/broken", status: 500, reason: "HTTP 500" },
      { url: "/missing", status: 404, reason: "HTTP 404" },
    ]);
    expect(byPath(run.records, "/about").brokenLinks).toEqual([]);
    const events = run.events.filter((e) => e.type === "link_broken");
    expect(events).toHaveLength(3);
    expect(events).toContainEqual({ type: "link_broken", url: `${origin}/missing`, foundOn: `${origin}/`, status: 404, detail: "HTTP 404" });
    expect(run.events).toContainEqual({ type: "page_failed", url: `${origin}/broken`, detail: expect.stringMatching(/^HTTP 500/) });
  });

  it("records console errors and uncaught exceptions of a page", () => {
    expect(byPath(run.records, "/console-error").consoleErrors).toEqual(["Widget failed to initialise", "Uncaught Late boom"]);
    expect(byPath(run.records, "/about").consoleErrors).toEqual([]);
  });

  it("records links to another origin without visiting it, and does not follow a redirect there", () => {
    expect(byPath(run.records, "/").links).toContainEqual({ url: `${other}/landing`, sameOrigin: false });
    expect(byPath(run.records, "/go-away")).toMatchObject({ status: 302, finalUrl: `${other}/landing`, redirectChain: [`${origin}/go-away`] });
    // The other origin served only images embedded in the pages, never a page.
    expect(othersSaw.length).toBeGreaterThan(0);
    expect(othersSaw.filter((r) => r.dest !== "image" || !r.path.startsWith("/pixel.png"))).toEqual([]);
  });

  it("obeys robots.txt: /private/ is skipped, its Allow line lets /private/open through", () => {
    expect(visited(run.records)).not.toContain("/private/");
    expect(run.events).toContainEqual({ type: "page_skipped", url: `${origin}/private/`, detail: "disallowed by robots.txt" });
  });

  it("takes a full-page PNG of every page it loaded, one CSS pixel per pixel", () => {
    for (const record of run.records.filter((r) => path(r.url) !== "/go-away")) {
      expect(record.screenshot, record.url).not.toBeNull();
      expect(pngSize(record.screenshot ?? new Uint8Array()).width, record.url).toBe(1280);
    }
    // Full page: the home page is taller than the 800 px viewport, and its shot with it.
    expect(pngSize(byPath(run.records, "/").screenshot ?? new Uint8Array()).height).toBeGreaterThan(800);
    expect(byPath(run.records, "/go-away").screenshot).toBeNull();
  });

  it("records forms without submitting any of them while fillForms is off", async () => {
    const settings = byPath(run.records, "/settings").forms;
    expect(settings.map((f) => [path(f.action), f.destructive, f.submitted])).toEqual([
      ["/account/delete", true, false],
      ["/billing", true, false],
      ["/items/7", true, false],
      ["/preferences", false, false],
    ]);
    expect(settings[3].skipReason).toBe("fillForms is off");
  });
});

describe("limits", () => {
  it("maxDepth 1 visits the start page and the pages it links", async () => {
    const { records, result } = await crawl({ maxDepth: 1 });
    expect(visited(records)).toEqual(["/", ...LEVEL_1].sort());
    expect(result.stoppedBy).toBe("done");
  });

  it("checks the links beyond maxDepth without visiting them: HEAD only, robots.txt obeyed", async () => {
    const { records, result, events } = await crawl({ maxDepth: 0 });
    expect(visited(records)).toEqual(["/"]);
    const broken = result.brokenLinks.map((b) => ({ url: path(b.url), status: b.status, reason: b.reason, foundOn: b.foundOn.map(path) }));
    expect(broken.sort((a, b) => a.url.localeCompare(b.url))).toEqual([
      { url: "/api-area/", status: 401, reason: "HTTP 401", foundOn: ["/"] },
      { url: "/broken", status: 500, reason: "HTTP 500", foundOn: ["/"] },
      { url: "/missing", status: 404, reason: "HTTP 404", foundOn: ["/"] },
    ]);
    expect(byPath(records, "/").brokenLinks.map((l) => path(l.url)).sort()).toEqual(["/api-area/", "/broken", "/missing"]);
    expect(events.filter((e) => e.type === "link_broken")).toHaveLength(3);
    const { requests } = await siteStats();
    const linked = LEVEL_1.filter((p) => p !== "/private/open");
    for (const p of linked) expect(requests, p).toContainEqual({ method: "HEAD", path: p });
    // Checked, not visited: no page of level 1 was loaded, and nothing under the disallowed /private/ was asked for.
    expect(requests.filter((r) => r.method === "GET" && LEVEL_1.includes(r.path))).toEqual([]);
    expect(requests.filter((r) => r.path.startsWith("/private/") && r.path !== "/private/open")).toEqual([]);
  });

  it("checks the links of crawlPages too, and reports one that does not answer as unreachable", async () => {
    const { records, result } = await crawl({ crawlPages: ["/dead-end"] });
    expect(visited(records)).toEqual(["/dead-end"]);
    const broken = result.brokenLinks.map((b) => ({ url: path(b.url), status: b.status, reason: b.reason }));
    expect(broken.sort((a, b) => a.url.localeCompare(b.url))).toEqual([
      { url: "/hang-up", status: null, reason: "unreachable (ERR_EMPTY_RESPONSE)" },
      { url: "/missing", status: 404, reason: "HTTP 404" },
    ]);
    expect(byPath(records, "/dead-end").brokenLinks.map((l) => path(l.url)).sort()).toEqual(["/hang-up", "/missing"]);
  });

  it("gives a link checked late to every page it is on, and names the first 20 of them", async () => {
    const many = Array.from({ length: 25 }, (_, i) => `/many/${i + 1}`);
    const { records, result, events } = await crawl({ crawlPages: many });
    expect(records).toHaveLength(25);
    for (const record of records) expect(record.brokenLinks.map((l) => path(l.url)), record.url).toEqual(["/many-missing"]);
    expect(events.filter((e) => e.type === "link_broken")).toHaveLength(25);
    expect(result.brokenLinks).toHaveLength(1);
    expect(result.brokenLinks[0].foundOn).toHaveLength(20);
  });

  it("maxPages 3 visits the start page and its first two links, and says so", async () => {
    const { records, result } = await crawl({ maxPages: 3 });
    expect(visited(records)).toEqual(["/", "/about", "/docs/"]);
    expect(result).toMatchObject({ pagesVisited: 3, stoppedBy: "maxPages" });
  });

  it("crawlPages visits exactly the listed pages, robots.txt still applying", async () => {
    const { records } = await crawl({ crawlPages: ["/about", `${origin}/docs/guide`, "/missing", "/about#team", "/private/deeper"] });
    expect(visited(records)).toEqual(["/about", "/docs/guide", "/missing", "/private/deeper"]);
    expect(byPath(records, "/private/deeper")).toMatchObject({ status: null, error: "disallowed by robots.txt", screenshot: null });
    expect(byPath(records, "/missing").status).toBe(404);
  });

  it("respectRobots false also visits /private/ and the page it links", async () => {
    const { records } = await crawl({ respectRobots: false });
    expect(visited(records)).toEqual([...DEFAULT_PAGES, "/private/", "/private/deeper"].sort());
  });

  it("a page over maxBytesPerPage is stopped and recorded as such; the next page loads", async () => {
    const { records } = await crawl({ crawlPages: ["/huge", "/about"], maxBytesPerPage: 400_000 });
    expect(byPath(records, "/huge").error).toBe("the page exceeded maxBytesPerPage (400000 bytes); loading was stopped");
    expect(byPath(records, "/about")).toMatchObject({ status: 200, error: null, title: "About" });
  });

  it("stops within a second or two of shouldStop turning true", async () => {
    let stoppedAt = 0;
    const { result, elapsedMs } = await crawl({ concurrency: 2 }, (records) => {
      if (records.length >= 2 && !stoppedAt) stoppedAt = Date.now();
      return stoppedAt > 0;
    });
    expect(result.stoppedBy).toBe("stopped");
    expect(result.pagesVisited).toBeLessThan(8);
    expect(Date.now() - stoppedAt).toBeLessThan(2500);
    expect(elapsedMs).toBeLessThan(10_000);
  });

  it("stops starting pages when the time budget is spent", async () => {
    const { result, elapsedMs } = await crawl({ timeBudgetMs: 1500, concurrency: 1 });
    expect(result.stoppedBy).toBe("timeBudget");
    expect(result.pagesVisited).toBeLessThan(DEFAULT_PAGES.length);
    expect(elapsedMs).toBeLessThan(1500 + 4000);
  });

  it("refuses a private address outside the allow-list before any request leaves the browser", async () => {
    const { records, result } = await crawl({ policy: urlPolicyFrom("") });
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ url: `${origin}/`, status: null, error: "blocked: 127.0.0.1 is a private, loopback or metadata address" });
    expect(result.stoppedBy).toBe("done");
    expect((await siteStats()).requests).toEqual([]);
  });

  it("refuses options that would send it off the crawl's origin", async () => {
    await expect(crawl({ crawlPages: [`${other}/landing`] })).rejects.toThrow(CrawlOptionsError);
    await expect(
      crawl({ credentials: [{ type: "username_password", login_url: `${other}/login`, username: "a", password: "b" }] }),
    ).rejects.toThrow(/login_url: must be on/);
  });
});

describe("forms", () => {
  it("fillForms submits the search and feedback forms, reaching pages only they lead to, and never a destructive form", async () => {
    const { records } = await crawl({ fillForms: true, testData: { q: "widgets" } });
    expect(visited(records)).toEqual(
      [...DEFAULT_PAGES, "/search?q=widgets", "/results/hidden-gem", "/thanks", "/preferences?theme=light"].sort(),
    );
    expect(byPath(records, "/results/hidden-gem").depth).toBe(3);
    const contact = byPath(records, "/contact").forms;
    expect(contact.map((f) => [path(f.action), f.submitted, f.resultUrl && path(f.resultUrl)])).toEqual([
      ["/search", true, "/search?q=widgets"],
      ["/feedback", true, "/thanks"],
    ]);
    const settings = byPath(records, "/settings").forms;
    expect(settings.map((f) => [f.submitted, f.skipReason])).toEqual([
      [false, 'looks destructive: action URL says "delete"'],
      [false, 'looks destructive: button says "pay"'],
      [false, "overrides its method to DELETE"],
      [true, null],
    ]);
    expect(byPath(records, "/account/").forms[0]).toMatchObject({ submitted: false, skipReason: "asks for a password" });
    const { submissions } = await siteStats();
    expect(submissions).toEqual({ "/feedback": 1 });
  });

  it("judges destructive forms by action, button, name, method and payment fields", () => {
    const form = (over: Partial<RawForm>): RawForm => ({
      index: 0, action: `${origin}/save`, method: "post", methodOverride: "", name: "", fields: [], submitters: ["Save"], ...over,
    });
    const field = (name: string, type = "text") => ({ name, type, label: "", required: false, index: 0, tag: "input", id: "", autocomplete: "", options: [], placeholder: "", min: "" });
    expect(refusal(form({}), origin)).toBeNull();
    expect(refusal(form({ submitters: ["Unsubscribe"] }), origin)?.destructive).toBe(true);
    expect(refusal(form({ submitters: ["Cancel subscription"] }), origin)?.destructive).toBe(true);
    expect(refusal(form({ action: `${origin}/checkout` }), origin)?.destructive).toBe(true);
    expect(refusal(form({ action: `${origin}/users/removeUser` }), origin)?.destructive).toBe(true);
    expect(refusal(form({ name: "purchase-form" }), origin)?.destructive).toBe(true);
    expect(refusal(form({ methodOverride: "put" }), origin)?.destructive).toBe(true);
    expect(refusal(form({ fields: [field("cc-number")] }), origin)?.destructive).toBe(true);
    expect(refusal(form({ fields: [field("delete_ids[]")] }), origin)?.destructive).toBe(true);
    expect(refusal(form({ fields: [field("pw", "password")] }), origin)).toEqual({ destructive: false, reason: "asks for a password" });
    expect(refusal(form({ action: `${other}/save` }), origin)).toEqual({ destructive: false, reason: "submits to another origin" });
    expect(refusal(form({ submitters: ["Search"], method: "get", action: `${origin}/search` }), origin)).toBeNull();
  });
});

describe("credentials", () => {
  const noCredentialReachedTheOtherOrigin = (log: OtherRequest[]) => {
    // Every page's bounce image redirects to the other origin: the hop after a credentialed request was made…
    expect(log.some((r) => r.path === "/pixel.png?bounced=1")).toBe(true);
    // …and neither it nor any other request there carried a credential, and none was a page visit.
    for (const r of log) {
      expect(r.authorization, r.path).toBeNull();
      expect(r.apiKey, r.path).toBeNull();
      expect(r.cookie ?? "", r.path).toBe("");
      expect(r.dest, r.path).toBe("image");
    }
  };

  it("username_password logs in, crawls /account/ pages, skips sign-out and keeps the password and cookie to itself", async () => {
    const { records, events, result } = await crawl({
      startUrl: `${origin}/account/`,
      maxDepth: 1,
      credentials: [{ type: "username_password", login_url: "/login", username: LOGIN.username, password: LOGIN.password }],
    });
    expect(events.slice(0, 2)).toEqual([
      { type: "login_attempted", url: `${origin}/login` },
      { type: "login_succeeded", url: `${origin}/account/`, detail: "left the login page" },
    ]);
    expect(byPath(records, "/account/")).toMatchObject({ status: 200, finalUrl: `${origin}/account/`, title: "Account" });
    expect(visited(records)).toEqual(["/account/", "/account/orders", "/account/profile"]);
    expect(events).toContainEqual({ type: "page_skipped", url: `${origin}/logout`, detail: expect.stringMatching(/^a sign-out link/) });
    expect(result.stoppedBy).toBe("done");
    expect(JSON.stringify({ events, records: records.map(({ screenshot: _, ...r }) => r) })).not.toContain(LOGIN.password);
    expect((await siteStats()).logins).toEqual({ ok: 1, failed: 0 });
    // The login page's script tried to send the typed password elsewhere; the request was refused.
    const log = await otherLog();
    expect(log.filter((r) => r.path.startsWith("/collect"))).toEqual([]);
    noCredentialReachedTheOtherOrigin(log);
  });

  it("a wrong password ends the crawl with login_failed and no page", async () => {
    const { records, events, result } = await crawl({
      credentials: [{ type: "username_password", login_url: `${origin}/login`, username: LOGIN.username, password: "wrong-password-123" }],
    });
    expect(events).toEqual([
      { type: "login_attempted", url: `${origin}/login` },
      { type: "login_failed", url: `${origin}/login`, detail: "the page after signing in still asks for a password" },
    ]);
    expect(records).toEqual([]);
    expect(result.stoppedBy).toBe("loginFailed");
  });

  it("named fields find the login form's inputs", async () => {
    const { events } = await crawl({
      crawlPages: ["/account/profile"],
      credentials: [{ type: "username_password", login_url: "/login", username: LOGIN.username, password: LOGIN.password, username_field: "user", password_field: "pass" }],
    });
    expect(events.map((e) => e.type)).toEqual(["login_attempted", "login_succeeded", "page_visited"]);
  });

  it("a bearer token reaches /api-area/ and goes nowhere else", async () => {
    const { records } = await crawl({ startUrl: `${origin}/api-area/`, credentials: [{ type: "bearer_token", token: BEARER_TOKEN }] });
    expect(visited(records)).toEqual(["/api-area/", "/api-area/reports"]);
    expect(byPath(records, "/api-area/")).toMatchObject({ status: 200, title: "API area" });
    expect(byPath(records, "/api-area/reports").status).toBe(200);
    noCredentialReachedTheOtherOrigin(await otherLog());
  });

  it("custom headers and a cookie credential reach their areas and go nowhere else", async () => {
    const { records } = await crawl({
      crawlPages: ["/api-area/", "/account/orders"],
      credentials: [
        { type: "custom_headers", headers: { "X-Api-Key": API_KEY } },
        { type: "cookie", name: "sid", value: PRESET_SESSION },
      ],
    });
    expect(byPath(records, "/api-area/").status).toBe(200);
    expect(byPath(records, "/account/orders")).toMatchObject({ status: 200, finalUrl: `${origin}/account/orders` });
    noCredentialReachedTheOtherOrigin(await otherLog());
  });
});

describe("devices", () => {
  it("mobile crawls with a phone's viewport, touch and user agent; desktop with ours", async () => {
    const [mobile, desktop] = await Promise.all([
      crawl({ crawlPages: ["/device"], device: "mobile" }),
      crawl({ crawlPages: ["/device"], device: "desktop" }),
    ]);
    const [width, touchPoints, userAgent] = mobile.records[0].title.split("|");
    expect(Number(width)).toBe(412);
    expect(Number(touchPoints)).toBeGreaterThan(0);
    expect(userAgent).toMatch(/Android.*Mobile Safari\/537\.36 AegisBot\/1\.0$/);
    const shot = mobile.records[0].screenshot;
    expect(shot && pngSize(shot).width).toBe(412);
    const [desktopWidth, desktopTouch, desktopAgent] = desktop.records[0].title.split("|");
    expect([Number(desktopWidth), Number(desktopTouch)]).toEqual([1280, 0]);
    expect(desktopAgent).toMatch(/Chrome\/\d+.* AegisBot\/1\.0$/);
    expect(desktopAgent).not.toMatch(/Mobile/);
  });
});

describe("what interception cannot see", () => {
  it("a page's workers and frames cannot reach what the page may not", async () => {
    await fetch(`${other}/__reset`);
    const { records } = await crawl({ crawlPages: ["/workers"] });
    const [page] = records;
    expect(page.title).toBe("worker: socket blocked, private socket blocked, fetch failed; page private socket blocked; service worker refused; shared worker refused");
    // The dedicated worker's fetch went through the page's request guard and was refused there.
    expect(page.failedRequests).toContainEqual({ url: expect.stringMatching(/^http:\/\/localhost:\d+\/worker-fetch$/), reason: expect.stringMatching(/^blocked: localhost/) });
    const { requests } = await siteStats();
    expect(requests.map((r) => r.path)).toContain("/assets/probe-worker.js");
    expect(requests.map((r) => r.path)).not.toContain("/assets/probe-shared.js");
    expect(requests.map((r) => r.path)).not.toContain("/probe-sw.js");
    // Nothing reached the other origin: no socket of the worker or the iframe, no fetch of a shared or service worker.
    expect((await otherLog()).filter((r) => !r.path.startsWith("/pixel.png"))).toEqual([]);
  });
});
