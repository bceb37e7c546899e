// Forms a crawl finds: what each asks for, whether it looks destructive, the test data that
// fills it, and filling and submitting it in the page. The crawler never submits a form that
// looks destructive (delete, remove, pay, checkout, purchase, unsubscribe, cancel …, judged by
// its action URL, its submit buttons' text, its name/id/class, its method or a method-override
// field, and payment fields), one that asks for a password or a file, or one that posts to
// another origin.
//
// The functions passed to page.evaluate run inside the page: they use only what they declare
// and declare no named function (wrangler's bundle would wrap it in a `__name` call the page
// cannot run; see targets.ts).
import type { Page } from "@cloudflare/puppeteer";

export type FormField = { name: string; type: string; label: string; required: boolean };

export type FormRecord = {
  action: string;
  method: string;
  fields: FormField[];
  submitText: string;
  destructive: boolean;
  /** Submitted with test data (only with fillForms), or why not. */
  submitted: boolean;
  skipReason: string | null;
  /** Where submitting led (same-origin URLs only; null when not submitted or nothing navigated). */
  resultUrl: string | null;
};

/** A form as the page describes it; `index` is its place in document.forms. */
export type RawForm = {
  index: number;
  action: string;
  method: string;
  methodOverride: string;
  name: string;
  fields: Array<FormField & { index: number; tag: string; id: string; autocomplete: string; options: string[]; placeholder: string; min: string }>;
  submitters: string[];
};

export async function readForms(page: Page): Promise<RawForm[]> {
  return page.evaluate(() =>
    Array.from(document.forms)
      .slice(0, 20)
      .map((form, index) => {
        const controls = Array.from(form.elements) as Array<HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement | HTMLButtonElement>;
        const override = controls.find((el) => /^(_method|x-http-method-override|x-http-method)$/i.test(el.name ?? ""));
        return {
          index,
          action: form.action,
          method: (form.getAttribute("method") ?? "get").toLowerCase(),
          methodOverride: override instanceof HTMLInputElement ? override.value.toLowerCase() : "",
          name: [form.getAttribute("name"), form.id, form.className, form.getAttribute("aria-label")].filter(Boolean).join(" "),
          fields: controls
            .map((el, elementIndex) => ({ el, elementIndex }))
            .filter(({ el }) => !(el instanceof HTMLButtonElement) && !(el instanceof HTMLFieldSetElement) && !(el instanceof HTMLOutputElement))
            .filter(({ el }) => !/^(submit|button|reset|image|hidden)$/.test((el as HTMLInputElement).type ?? ""))
            .map(({ el, elementIndex }) => {
              const field = el as HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;
              const labels = "labels" in field && field.labels ? Array.from(field.labels) : [];
              return {
                index: elementIndex,
                tag: field.tagName.toLowerCase(),
                type: field instanceof HTMLInputElement ? field.type : field.tagName.toLowerCase(),
                name: field.name ?? "",
                id: field.id ?? "",
                label: (labels.map((l) => l.textContent ?? "").join(" ") || field.getAttribute("aria-label") || "").replace(/\s+/g, " ").trim(),
                required: field.required,
                autocomplete: field.getAttribute("autocomplete") ?? "",
                placeholder: field.getAttribute("placeholder") ?? "",
                min: field.getAttribute("min") ?? "",
                options: field instanceof HTMLSelectElement ? Array.from(field.options).filter((o) => !o.disabled && o.value !== "").map((o) => o.value) : [],
              };
            }),
          submitters: controls
            .filter((el) => (el instanceof HTMLButtonElement && el.type === "submit") || (el instanceof HTMLInputElement && /^(submit|image)$/.test(el.type)))
            .map((el) => ((el as HTMLElement).innerText || (el as HTMLInputElement).value || el.getAttribute("aria-label") || "").replace(/\s+/g, " ").trim()),
        };
      }),
  );
}

const DESTRUCTIVE_WORDS = new Set([
  "delete", "remove", "destroy", "erase", "purge", "deactivate", "terminate", "disable", "revoke", "cancel", "unsubscribe",
  "pay", "payment", "checkout", "purchase", "buy", "order", "donate", "transfer", "withdraw", "refund", "logout", "signout", "logoff",
]);
const DESTRUCTIVE_PHRASES = /\b(close (my )?account|sign out|log out|opt out|check out|place order|cancel subscription)\b/;
const PAYMENT_FIELDS = /^(card|cardnumber|ccnumber|cc|cvv|cvc|csc|iban|cc-number|cc-csc|cc-exp|expiry|routing|swift)$/;

/** Words of a text, camelCase and snake_case split: "/account/deleteUser" → account, delete, user. */
function words(text: string): string[] {
  return text
    .replace(/([a-z])([A-Z])/g, "$1 $2")
    .toLowerCase()
    .split(/[^a-z]+/)
    .filter(Boolean);
}

/** Why the crawler must not submit this form, or null when it may. */
export function refusal(form: RawForm, scanOrigin: string): { destructive: boolean; reason: string } | null {
  let actionPath = form.action;
  try {
    const action = new URL(form.action);
    if (action.origin !== scanOrigin) return { destructive: false, reason: "submits to another origin" };
    actionPath = action.pathname + action.search;
  } catch {
    return { destructive: false, reason: "has no usable action URL" };
  }
  if (form.method === "dialog") return { destructive: false, reason: "only closes a dialog" };
  if (!["get", "post"].includes(form.method) && form.method !== "") return { destructive: true, reason: `uses method ${form.method.toUpperCase()}` };
  if (/^(delete|put|patch)$/.test(form.methodOverride)) return { destructive: true, reason: `overrides its method to ${form.methodOverride.toUpperCase()}` };
  const places: Array<[string, string]> = [
    ["action URL", actionPath],
    ...form.submitters.map((text): [string, string] => ["button", text]),
    ["name", form.name],
  ];
  for (const [where, text] of places) {
    const hit = words(text).find((w) => DESTRUCTIVE_WORDS.has(w)) ?? text.toLowerCase().match(DESTRUCTIVE_PHRASES)?.[0];
    if (hit) return { destructive: true, reason: `looks destructive: ${where} says "${hit}"` };
  }
  for (const field of form.fields) {
    const names = [field.name, field.id, field.autocomplete].map((n) => n.toLowerCase().replace(/[_\s]/g, ""));
    if (names.some((n) => PAYMENT_FIELDS.test(n)) || words(field.name).some((w) => w === "card" || w === "cvv" || w === "iban")) {
      return { destructive: true, reason: `looks like a payment: field "${field.name || field.label}"` };
    }
    if (words(field.name).some((w) => DESTRUCTIVE_WORDS.has(w))) return { destructive: true, reason: `looks destructive: field "${field.name}"` };
  }
  if (form.fields.some((f) => f.type === "password")) return { destructive: false, reason: "asks for a password" };
  if (form.fields.some((f) => f.type === "file")) return { destructive: false, reason: "asks for a file" };
  return null;
}

/** The form's shape with the action path, method and field names: the same search box on every page is submitted once. */
export function formSignature(form: RawForm): string {
  let action = form.action;
  try {
    action = new URL(form.action).pathname;
  } catch {
    // keep as written
  }
  return `${form.method} ${action} ${form.fields.map((f) => f.name).sort().join(",")}`;
}

/**
 * The value for each field: testData by name, id, label or type (case-insensitive), else a
 * default by type and name. Selects take their first enabled option with a value; required
 * checkboxes are checked ("on"); radios pick their group's first option.
 */
export function testValues(form: RawForm, testData: Record<string, string> = {}): Record<number, string> {
  const given = new Map(Object.entries(testData).map(([k, v]) => [k.trim().toLowerCase(), v]));
  const values: Record<number, string> = {};
  for (const field of form.fields) {
    const keys = [field.name, field.id, field.label, field.type].map((k) => k.trim().toLowerCase()).filter(Boolean);
    const explicit = keys.map((k) => given.get(k)).find((v) => v !== undefined);
    const value = explicit ?? defaultValue(field);
    if (value !== null) values[field.index] = value;
  }
  return values;
}

function defaultValue(field: RawForm["fields"][number]): string | null {
  const hint = `${field.name} ${field.id} ${field.label} ${field.autocomplete} ${field.placeholder}`.toLowerCase();
  switch (field.type) {
    case "select":
    case "select-one":
    case "select-multiple":
      return field.options[0] ?? null;
    case "checkbox":
      return field.required ? "on" : null;
    case "radio":
      return "on";
    case "email":
      return "test@example.com";
    case "tel":
      return "+15555550100";
    case "url":
      return "https://example.com";
    case "number":
    case "range":
      return field.min || "1";
    case "date":
      return "2024-01-15";
    case "datetime-local":
      return "2024-01-15T10:00";
    case "time":
      return "10:00";
    case "month":
      return "2024-01";
    case "week":
      return "2024-W03";
    case "color":
      return "#336699";
    case "textarea":
      return "This is a test message.";
    case "password":
    case "file":
      return null;
  }
  if (/e-?mail/.test(hint)) return "test@example.com";
  if (/phone|mobile|\btel/.test(hint)) return "+15555550100";
  if (/zip|postal|postcode/.test(hint)) return "12345";
  if (/first/.test(hint)) return "Test";
  if (/last|surname|family/.test(hint)) return "User";
  if (/name/.test(hint)) return "Test User";
  if (/city|town/.test(hint)) return "Springfield";
  if (/country/.test(hint)) return "US";
  if (/company|organi[sz]ation/.test(hint)) return "Example Inc";
  if (/url|website|homepage/.test(hint)) return "https://example.com";
  if (/age|qty|quantity|count|amount/.test(hint)) return "1";
  return "test";
}

/** Fills form `formIndex` with `values` (by element index) the way a person would leave it, then reports whether it is valid. */
export async function fillForm(page: Page, formIndex: number, values: Record<number, string>): Promise<boolean> {
  return page.evaluate(
    (index, byElement) => {
      const form = document.forms[index];
      if (!form) return false;
      const elements = Array.from(form.elements);
      const radioGroupsDone = new Set<string>();
      for (const [key, value] of Object.entries(byElement)) {
        const el = elements[Number(key)];
        if (el instanceof HTMLInputElement && (el.type === "checkbox" || el.type === "radio")) {
          if (el.type === "radio") {
            if (radioGroupsDone.has(el.name)) continue;
            radioGroupsDone.add(el.name);
            if (elements.some((other) => other instanceof HTMLInputElement && other.type === "radio" && other.name === el.name && other.checked)) continue;
          }
          el.checked = true;
        } else if (el instanceof HTMLSelectElement) {
          el.value = value;
        } else if (el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement) {
          if (el.disabled || el.readOnly) continue;
          const setter = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(el), "value")?.set;
          if (setter) setter.call(el, value);
          else el.value = value;
        } else {
          continue;
        }
        el.dispatchEvent(new Event("input", { bubbles: true }));
        el.dispatchEvent(new Event("change", { bubbles: true }));
      }
      return form.checkValidity();
    },
    formIndex,
    values,
  );
}

/** Submits form `formIndex` as its first submit button would (validation and submit handlers run). */
export async function submitForm(page: Page, formIndex: number): Promise<void> {
  await page.evaluate((index) => {
    const form = document.forms[index];
    if (!form) return;
    const submitter = Array.from(form.elements).find(
      (el) => (el instanceof HTMLButtonElement && el.type === "submit") || (el instanceof HTMLInputElement && /^(submit|image)$/.test(el.type)),
    ) as HTMLButtonElement | HTMLInputElement | undefined;
    form.requestSubmit(submitter);
  }, formIndex);
}
