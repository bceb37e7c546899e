// A full-page capture that does not flake: animations and transitions stopped, the caret hidden,
// web fonts loaded, masked elements painted over, and the capture repeated until two consecutive
// frames are identical (at most 3 tries, within the step's time-out).
import type { Page } from "@cloudflare/puppeteer";
import type { Target } from "../schemas/steps";
import { selectorFor } from "./targets";
import { withTimeout } from "../timeouts";

const MAX_TRIES = 3;
/** The colour masked boxes are painted in: loud, so a person sees what was hidden. */
const MASK_COLOR = "#ff00ff";
const FREEZE_ID = "aegis-capture-freeze";
const MASK_CLASS = "aegis-capture-mask";

export type Capture = { png: Uint8Array; stable: boolean; tries: number };

const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((byte, i) => byte === b[i]);

export async function stableCapture(page: Page, options: { mask?: Target[]; timeoutMs: number }): Promise<Capture> {
  return withTimeout(capture(page, options.mask ?? []), options.timeoutMs, () => new Error(`the capture did not settle within ${options.timeoutMs} ms`));
}

async function capture(page: Page, mask: Target[]): Promise<Capture> {
  await page.evaluate(
    (id, css) => {
      if (document.getElementById(id)) return;
      const style = document.createElement("style");
      style.id = id;
      style.textContent = css;
      document.head.appendChild(style);
    },
    FREEZE_ID,
    "*, *::before, *::after { animation: none !important; transition: none !important; caret-color: transparent !important; }",
  );
  await page.evaluate(() => document.fonts.ready.then(() => undefined));
  await paintMasks(page, mask);
  try {
    let previous = await page.screenshot({ fullPage: true, type: "png" });
    for (let tries = 2; tries <= MAX_TRIES; tries++) {
      const next = await page.screenshot({ fullPage: true, type: "png" });
      if (sameBytes(previous, next)) return { png: next, stable: true, tries };
      previous = next;
    }
    return { png: previous, stable: false, tries: MAX_TRIES };
  } finally {
    await page.evaluate((cls) => document.querySelectorAll(`.${cls}`).forEach((el) => el.remove()), MASK_CLASS).catch(() => {});
  }
}

/** Covers each masked element's box (every match) with a solid block, in page coordinates. */
async function paintMasks(page: Page, mask: Target[]) {
  for (const target of mask) {
    const boxes = [];
    for (const handle of await page.$$(selectorFor(target))) {
      const box = await handle.evaluate((el) => {
        const r = el.getBoundingClientRect();
        return { x: r.left + window.scrollX, y: r.top + window.scrollY, width: r.width, height: r.height };
      });
      await handle.dispose();
      if (box.width > 0 && box.height > 0) boxes.push(box);
    }
    await page.evaluate(
      (found, cls, color) => {
        for (const b of found) {
          const block = document.createElement("div");
          block.className = cls;
          block.style.cssText = `position:absolute;left:${b.x}px;top:${b.y}px;width:${b.width}px;height:${b.height}px;background:${color};z-index:2147483647;pointer-events:none`;
          document.body.appendChild(block);
        }
      },
      boxes,
      MASK_CLASS,
      MASK_COLOR,
    );
  }
}
