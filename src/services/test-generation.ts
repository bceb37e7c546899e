// Tests generated from a scan: for each page reached, a case that loads it (a status of 400 or
// more fails the load), checks its title and main heading, that it raises no console error and that no
// same-origin link is broken; for each form that is not destructive, a case that fills it
// and checks its submit button, without submitting. The cases use the step language, so they
// run and export like hand-written ones. Regenerating replaces the project's one scan suite.
import type { Db } from "../db/client";
import { findGeneratedSuite, insertSuite } from "../db/suites";
import { replaceCasesOfSuite, type CaseRow } from "../db/cases";
import type { CrawlPageRow, CrawlRow } from "../db/crawls";
import type { FormRecord } from "../browser/forms";
import type { Step, Target } from "../schemas/steps";
import { uuidv7 } from "../ids";

export const GENERATED_SUITE_NAME = "Generated from crawls";
const MAX_GENERATED_CASES = 200;
const FILLABLE = new Set(["text", "email", "search", "tel", "url", "number", "textarea", ""]);

export async function generateSuiteFromCrawl(db: Db, crawl: CrawlRow, pages: CrawlPageRow[], at: string) {
  const role = crawl.roles[0]?.label;
  const reached = pages.filter((p) => p.role === role && p.error === null && p.status !== null && p.status < 400);
  const seen = new Set<string>();
  const drafts: { name: string; steps: Step[] }[] = [];
  for (const page of reached) {
    const path = pathOf(page.finalUrl);
    if (!path || seen.has(path)) continue;
    seen.add(path);
    drafts.push({ name: `Page ${path}`, steps: pageChecks(path, page.title, page.details.heading ?? null) });
    for (const [i, form] of (page.details.forms as FormRecord[]).entries()) {
      const steps = formCheck(path, form);
      if (steps) drafts.push({ name: `Form ${i + 1} on ${path}`, steps });
    }
  }

  let suite = await findGeneratedSuite(db, crawl.projectId);
  if (!suite) {
    suite = { id: uuidv7(), orgId: crawl.orgId, projectId: crawl.projectId, name: GENERATED_SUITE_NAME, source: "crawl", createdAt: at, updatedAt: at };
    await insertSuite(db, suite);
  }
  const rows: CaseRow[] = drafts.slice(0, MAX_GENERATED_CASES).map((d) => ({
    id: uuidv7(),
    orgId: crawl.orgId,
    projectId: crawl.projectId,
    suiteId: suite.id,
    name: d.name,
    steps: d.steps,
    createdAt: at,
    updatedAt: at,
  }));
  await replaceCasesOfSuite(db, suite.id, rows);
  return { suiteId: suite.id, caseIds: rows.map((r) => r.id) };
}

function pathOf(url: string): string | null {
  try {
    const u = new URL(url);
    return u.pathname + u.search;
  } catch {
    return null;
  }
}

function pageChecks(path: string, title: string, heading: string | null): Step[] {
  return [
    { action: "goto", url: path },
    ...(title ? [{ action: "expectTitle" as const, title }] : []),
    ...(heading ? [{ action: "expectText" as const, target: { css: "h1" }, text: heading }] : []),
    { action: "expectNoConsoleErrors" },
    { action: "expectNoBrokenLinks" },
  ];
}

const SAMPLE_VALUES: Record<string, string> = {
  email: "aegis.test@example.com",
  tel: "+15555550100",
  url: "https://example.com/",
  number: "1",
  search: "test",
};

function formCheck(path: string, form: FormRecord): Step[] | null {
  if (form.destructive) return null;
  const fills: Step[] = [];
  for (const field of form.fields) {
    if (!FILLABLE.has(field.type) || (!field.label && !field.name)) continue;
    const target: Target = field.label ? { label: field.label } : { css: `[name="${field.name.replace(/["\\]/g, "\\$&")}"]` };
    fills.push({ action: "fill", target, value: SAMPLE_VALUES[field.type] ?? "Aegis test" });
  }
  if (fills.length === 0) return null;
  const submit: Step[] = form.submitText ? [{ action: "expectVisible", target: { role: "button", name: form.submitText } }] : [];
  return [{ action: "goto", url: path }, ...fills, ...submit];
}
