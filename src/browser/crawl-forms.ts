// The forms of a crawled page: which of them are filled and submitted, and submitting one in the
// page's tab. A form is refused when destructive or sent to another origin (refusal in forms.ts),
// submitted once however many pages show it, at most MAX_FORMS_SUBMITTED_PER_PAGE per page, and
// only while the time budget lasts. Reading, judging and filling a form in the page: forms.ts.
import type { ValidCrawlOptions } from "./crawl-types";
import { navTimeout, readLinks } from "./crawl-page";
import { beginVisit, bounded, firstLine, STEP_TIMEOUT_MS, type Tab, type TabSettings } from "./crawl-tab";
import { fillForm, formSignature, refusal, submitForm, testValues, type FormRecord, type RawForm } from "./forms";
import { isSameOrigin, normalizeUrl } from "./url-normalize";

const MAX_FORMS_SUBMITTED_PER_PAGE = 3;
const FORM_NAV_TIMEOUT_MS = 8_000;

/** A crawl's form visits; it remembers the forms submitted so far, across pages. */
export class FormVisits {
  private readonly submitted = new Set<string>();

  constructor(
    private readonly settings: TabSettings,
    private readonly options: Pick<ValidCrawlOptions, "fillForms" | "testData">,
    /** The crawl is stopping: no more forms are submitted. */
    private readonly aborted: () => boolean,
  ) {}

  /**
   * Records the page's forms and submits those it may (`followable`: the page loaded, on the
   * origin). `follow`: the same-origin pages the submissions led to, for the crawl to visit.
   */
  async visit(tab: Tab, raw: RawForm[], pageUrl: string, followable: boolean): Promise<{ records: FormRecord[]; follow: string[] }> {
    const { origin, deadline } = this.settings;
    const follow: string[] = [];
    const records: FormRecord[] = [];
    let submittedHere = 0;
    for (const form of raw) {
      const refused = refusal(form, origin);
      const record: FormRecord = {
        action: form.action,
        method: form.methodOverride || form.method,
        fields: form.fields.map(({ name, type, label, required }) => ({ name, type, label, required })),
        submitText: form.submitters[0] ?? "",
        destructive: refused?.destructive ?? false,
        submitted: false,
        skipReason: refused?.reason ?? null,
        resultUrl: null,
      };
      records.push(record);
      if (refused || !this.options.fillForms) {
        record.skipReason ??= "fillForms is off";
        continue;
      }
      if (!followable) {
        record.skipReason = "the page did not load";
        continue;
      }
      const signature = formSignature(form);
      if (this.submitted.has(signature)) {
        record.skipReason = "the same form was submitted on another page";
        continue;
      }
      if (submittedHere >= MAX_FORMS_SUBMITTED_PER_PAGE || Date.now() >= deadline || this.aborted()) {
        record.skipReason = "not submitted: limit of forms per page or time budget reached";
        continue;
      }
      this.submitted.add(signature);
      submittedHere++;
      const result = await fillAndSubmit(tab, form, pageUrl, submittedHere > 1, this.settings, this.options.testData).catch((e) => ({ error: firstLine(e) }));
      if ("error" in result) {
        record.skipReason = result.error;
        continue;
      }
      record.submitted = true;
      record.skipReason = null;
      if (result.url && isSameOrigin(result.url, origin)) {
        record.resultUrl = result.url;
        // A GET result is a page of its own; a POST result cannot be revisited, so its links count as this page's.
        if (result.method === "GET" && result.status !== null && result.status < 400) follow.push(result.url);
        else follow.push(...result.links);
      }
    }
    return { records, follow };
  }
}

/** Fills a form with test data and submits it; `reload` loads its page again first (an earlier form was submitted from it). */
async function fillAndSubmit(
  tab: Tab,
  form: RawForm,
  pageUrl: string,
  reload: boolean,
  settings: TabSettings,
  testData: Record<string, string> | undefined,
): Promise<{ url: string | null; method: string; status: number | null; links: string[] } | { error: string }> {
  const visit = beginVisit(tab, "form");
  try {
    if (reload) await tab.page.goto(pageUrl, { waitUntil: "load", timeout: navTimeout(settings.deadline) });
    const valid = await bounded(fillForm(tab.page, form.index, testValues(form, testData)), STEP_TIMEOUT_MS, "filling a form");
    if (!valid) return { error: "not submitted: still invalid after filling with test data" };
    const navigation = tab.page.waitForNavigation({ waitUntil: "load", timeout: FORM_NAV_TIMEOUT_MS }).catch(() => null);
    await bounded(submitForm(tab.page, form.index), STEP_TIMEOUT_MS, "submitting a form");
    const response = (await navigation) ?? visit.mainResponse;
    if (visit.blockedNavigation) return { error: `submitted, but ${visit.blockedNavigation}` };
    if (!response) return { url: null, method: "GET", status: null, links: [] };
    const url = normalizeUrl(response.url());
    const links = (await readLinks(tab.page, settings.origin).catch(() => [])).filter((l) => l.sameOrigin).map((l) => l.url);
    return { url, method: response.request().method(), status: response.status(), links };
  } finally {
    tab.visit = null;
  }
}
