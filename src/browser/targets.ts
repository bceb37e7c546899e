// Step-language targets as puppeteer selectors, each matching Playwright's getBy* locator.
import type { Target } from "../schemas/steps";

const LABEL_HANDLER = "aegislabel";

// Form controls named by a <label> (wrapping or for=), aria-label or aria-labelledby, like getByLabel.
// The functions run inside the page, so they may use only what they declare.
import { registerCustomQueryHandler } from "@cloudflare/puppeteer";
registerCustomQueryHandler(LABEL_HANDLER, {
  queryAll: (root: Node, wanted: string) => {
    const doc = (root as Element).ownerDocument ?? (root as Document);
    const norm = (s: string | null) => (s ?? "").replace(/\s+/g, " ").trim().toLowerCase();
    const needle = norm(wanted);
    const found = new Set<Element>();
    for (const label of Array.from(doc.querySelectorAll("label"))) {
      const control = (label as HTMLLabelElement).control;
      if (control && norm(label.textContent).includes(needle)) found.add(control);
    }
    for (const el of Array.from(doc.querySelectorAll("[aria-label]"))) {
      if (norm(el.getAttribute("aria-label")).includes(needle)) found.add(el);
    }
    for (const el of Array.from(doc.querySelectorAll("[aria-labelledby]"))) {
      const ids = (el.getAttribute("aria-labelledby") ?? "").split(/\s+/);
      const text = ids.map((id) => doc.getElementById(id)?.textContent ?? "").join(" ");
      if (norm(text).includes(needle)) found.add(el);
    }
    return Array.from(found).filter((el) => (root as Element).contains?.(el) ?? true);
  },
});

const cssString = (value: string) => `"${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;

export function selectorFor(target: Target): string {
  if ("role" in target) {
    const quote = target.name?.includes('"') ? "'" : '"';
    return target.name === undefined
      ? `aria/[role="${target.role}"]`
      : `aria/${target.name.replace(/[[\]]/g, " ")}[role=${quote}${target.role}${quote}]`;
  }
  if ("label" in target) return `${LABEL_HANDLER}/${target.label}`;
  if ("text" in target) return `text/${target.text}`;
  if ("testId" in target) return `[data-testid=${cssString(target.testId)}]`;
  return target.css;
}

/** How a target reads in a failure reason: `role=link name="About"`. */
export function describeTarget(target: Target): string {
  if ("role" in target) return target.name === undefined ? `role=${target.role}` : `role=${target.role} name="${target.name}"`;
  const [kind, value] = Object.entries(target)[0];
  return `${kind}="${value}"`;
}
