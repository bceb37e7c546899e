// Step-language targets as puppeteer selectors, each matching Playwright's getBy* locator.
import { registerCustomQueryHandler } from "@cloudflare/puppeteer";
import type { Target } from "../schemas/steps";

const LABEL_HANDLER = "aegislabel";
const TEXT_HANDLER = "aegistext";

// Our handlers are registered at startup because puppeteer compiles them with `new Function`, which
// a deployed Worker allows only while its script starts; puppeteer's own `text/` handler compiles
// on first use, inside a request, and throws there. The functions run inside the page, so they use
// only what they declare, and declare no named function: wrangler's bundle (keepNames) would wrap
// it in a `__name` call the page cannot run.

// Form controls named by a <label> (wrapping or for=), aria-label or aria-labelledby, like getByLabel.
registerCustomQueryHandler(LABEL_HANDLER, {
  queryAll: (root: Node, wanted: string) => {
    const doc = (root as Element).ownerDocument ?? (root as Document);
    const named: Array<[Element, string | null]> = [];
    for (const label of Array.from(doc.querySelectorAll("label"))) {
      const control = (label as HTMLLabelElement).control;
      if (control) named.push([control, label.textContent]);
    }
    for (const el of Array.from(doc.querySelectorAll("[aria-label]"))) named.push([el, el.getAttribute("aria-label")]);
    for (const el of Array.from(doc.querySelectorAll("[aria-labelledby]"))) {
      const ids = (el.getAttribute("aria-labelledby") ?? "").split(/\s+/);
      named.push([el, ids.map((id) => doc.getElementById(id)?.textContent ?? "").join(" ")]);
    }
    const needle = wanted.replace(/\s+/g, " ").trim().toLowerCase();
    const found = new Set(
      named.filter(([, name]) => (name ?? "").replace(/\s+/g, " ").trim().toLowerCase().includes(needle)).map(([el]) => el),
    );
    return Array.from(found).filter((el) => (root as Element).contains?.(el) ?? true);
  },
});

// The innermost elements whose text contains the wanted text, ignoring case and runs of
// whitespace, like getByText.
registerCustomQueryHandler(TEXT_HANDLER, {
  queryAll: (root: Node, wanted: string) => {
    const needle = wanted.replace(/\s+/g, " ").trim().toLowerCase();
    const unseen = new Set(["HEAD", "SCRIPT", "STYLE", "NOSCRIPT", "TEMPLATE"]);
    const matching = Array.from((root as ParentNode).querySelectorAll("*")).filter(
      (el) => !unseen.has(el.tagName) && (el.textContent ?? "").replace(/\s+/g, " ").toLowerCase().includes(needle),
    );
    const matched = new Set(matching);
    return matching.filter((el) => !Array.from(el.children).some((child) => matched.has(child)));
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
  if ("text" in target) return `${TEXT_HANDLER}/${target.text}`;
  if ("testId" in target) return `[data-testid=${cssString(target.testId)}]`;
  return target.css;
}

/** How a target reads in a failure reason: `role=link name="About"`. */
export function describeTarget(target: Target): string {
  if ("role" in target) return target.name === undefined ? `role=${target.role}` : `role=${target.role} name="${target.name}"`;
  const [kind, value] = Object.entries(target)[0];
  return `${kind}="${value}"`;
}
