// Signing a crawl in with a username_password credential, in one of its tabs (crawl-tab.ts),
// before the first page is visited. The page functions run inside the page: they use only what
// they declare and declare no named function (see targets.ts).
import type { CrawlCredential, CrawlEvent } from "./crawl-types";
import { redactText } from "./crawl-credentials";
import { navigationError, navTimeout, settle } from "./crawl-page";
import { beginVisit, bounded, firstLine, NAV_TIMEOUT_MS, STEP_TIMEOUT_MS, type Tab, type TabSettings } from "./crawl-tab";
import { normalizeUrl } from "./url-normalize";

/** What signing in needs of the crawl besides the tab. */
export type LoginContext = {
  settings: TabSettings;
  /** Where login_url is resolved against when it is not a URL of the origin. */
  startUrl: string;
  emit(event: CrawlEvent): Promise<void>;
  /** The crawl was stopped: a failure then is not the login's. */
  aborted(): boolean;
};

/**
 * Logs in with a username_password credential. Success means: after submitting, the page
 * answered below 400 and shows no visible password field, and either the URL left the login
 * page's path or the origin gained or changed a cookie. The password never appears in an event.
 */
export async function login(tab: Tab, credential: Extract<CrawlCredential, { type: "username_password" }>, crawl: LoginContext): Promise<boolean> {
  const { origin, auth, deadline } = crawl.settings;
  const loginUrl = normalizeUrl(credential.login_url, origin) ?? crawl.startUrl;
  await crawl.emit({ type: "login_attempted", url: loginUrl });
  const failed = async (detail: string) => {
    await crawl.emit({ type: "login_failed", url: loginUrl, detail: redactText(detail, auth.secrets) });
    return false;
  };
  const visit = beginVisit(tab, "login");
  try {
    const page = tab.page;
    const response = await page.goto(loginUrl, { waitUntil: "load", timeout: navTimeout(deadline) }).catch((e) => {
      throw new Error(`the login page could not be loaded: ${navigationError(e, visit, NAV_TIMEOUT_MS)}`);
    });
    if (response && response.status() >= 400) return await failed(`the login page answered HTTP ${response.status()}`);
    const found = await bounded(
      page.evaluate(
        (userField, passField) => {
          const inputs = Array.from(document.querySelectorAll("input"));
          const shown = inputs.filter((i) => i.type !== "hidden" && i.getClientRects().length > 0);
          const pass = passField
            ? inputs.find((i) => i.name === passField || i.id === passField)
            : shown.find((i) => i.type === "password");
          if (!pass) return { user: false, pass: false, submit: false };
          const candidates = shown.filter(
            (i) => /^(text|email|tel)$/.test(i.type) && (pass.form === null || i.form === pass.form),
          );
          const before = candidates.filter((i) => (i.compareDocumentPosition(pass) & Node.DOCUMENT_POSITION_FOLLOWING) !== 0);
          const user = userField
            ? inputs.find((i) => i.name === userField || i.id === userField)
            : (before[before.length - 1] ?? candidates[0]);
          pass.setAttribute("data-aegis-login", "password");
          user?.setAttribute("data-aegis-login", "username");
          const submit = (pass.form ?? document).querySelector("button[type=submit], button:not([type]), input[type=submit]");
          submit?.setAttribute("data-aegis-login", "submit");
          return { user: user !== undefined, pass: true, submit: submit !== null };
        },
        credential.username_field ?? "",
        credential.password_field ?? "",
      ),
      STEP_TIMEOUT_MS,
      "finding the login fields",
    );
    if (!found.pass) return await failed("no password field on the login page");
    if (!found.user) return await failed("no username or email field next to the password field");
    const cookiesBefore = cookieSnapshot(await bounded(page.cookies(origin), STEP_TIMEOUT_MS, "reading cookies"));
    await bounded(
      page.evaluate(
        (username, password) => {
          for (const [role, value] of [["username", username], ["password", password]]) {
            const el = document.querySelector(`[data-aegis-login="${role}"]`);
            if (!(el instanceof HTMLInputElement)) continue;
            el.focus();
            const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, "value")?.set;
            if (setter) setter.call(el, value);
            else el.value = value;
            el.dispatchEvent(new Event("input", { bubbles: true }));
            el.dispatchEvent(new Event("change", { bubbles: true }));
          }
        },
        credential.username,
        credential.password,
      ),
      STEP_TIMEOUT_MS,
      "filling the login form",
    );
    visit.mainResponse = null;
    const navigation = page.waitForNavigation({ waitUntil: "load", timeout: navTimeout(deadline) }).catch(() => null);
    if (found.submit) await bounded(page.click('[data-aegis-login="submit"]'), STEP_TIMEOUT_MS, "clicking sign in");
    else await bounded(page.focus('[data-aegis-login="password"]').then(() => page.keyboard.press("Enter")), STEP_TIMEOUT_MS, "pressing Enter");
    const after = (await navigation) ?? visit.mainResponse;
    await settle(visit);
    if (visit.blockedNavigation) return await failed(`signing in was refused: ${visit.blockedNavigation}`);
    if (after && after.status() >= 400) return await failed(`signing in answered HTTP ${after.status()}`);
    const passwordShown = await bounded(
      page.evaluate(() => Array.from(document.querySelectorAll("input[type=password]")).some((i) => i.getClientRects().length > 0)),
      STEP_TIMEOUT_MS,
      "checking the result of signing in",
    );
    const here = normalizeUrl(page.url());
    const leftLoginPage = here !== null && new URL(here).pathname !== new URL(loginUrl).pathname;
    const cookieChanged = cookieSnapshot(await bounded(page.cookies(origin), STEP_TIMEOUT_MS, "reading cookies")) !== cookiesBefore;
    if (passwordShown) return await failed("the page after signing in still asks for a password");
    if (!leftLoginPage && !cookieChanged) return await failed("signing in neither left the login page nor set a cookie");
    await crawl.emit({ type: "login_succeeded", url: here ?? loginUrl, detail: leftLoginPage ? "left the login page" : "a session cookie was set" });
    return true;
  } catch (error) {
    if (crawl.aborted()) return false;
    return await failed(firstLine(error));
  } finally {
    tab.visit = null;
  }
}

function cookieSnapshot(cookies: Array<{ name: string; value: string }>): string {
  return cookies
    .map((c) => `${c.name}=${c.value}`)
    .sort()
    .join("; ");
}
