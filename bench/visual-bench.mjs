// "5." Visual comparison: one comparison of two 1280-wide full-page captures (3000 and 8000 px
// tall) that differ in a few regions, in our code under workerd (src/visual/compare.ts, strips)
// next to pixelmatch + pngjs in Node (whole images), on the same PNG files. Time: the client's
// wall time of a compare request minus that of a request carrying the same bytes that does not
// compare (workerd's clock does not advance during computation, so the Worker cannot time
// itself). Memory: the growth of each process's peak RSS (VmHWM) after the first comparison (what
// one comparison needs) and after all of them (with the garbage V8 has not collected yet), after a
// warm-up that moved the same bytes: for workerd that holds the runtime's own growth too, so it
// is an upper bound of what the comparison needs.
// Standalone: node bench/visual-bench.mjs (npm run bench runs it as section 5).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import pngjs from "pngjs";

const here = dirname(fileURLToPath(import.meta.url));
const WIDTH = 1280;
const HEIGHTS = (process.env.VISUAL_BENCH_HEIGHTS ?? "3000,8000").split(",").map(Number);
const REPEATS = 5;
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const round = (x, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

/** A page-like picture: white, grey lines of "text", coloured blocks; seeded, so both runs draw the same. */
function drawPage(height, changed) {
  const png = new pngjs.PNG({ width: WIDTH, height });
  let seed = 42;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  png.data.fill(255);
  const fill = (x0, y0, w, h, [r, g, b]) => {
    for (let y = y0; y < Math.min(y0 + h, height); y++) {
      for (let x = x0; x < Math.min(x0 + w, WIDTH); x++) png.data.set([r, g, b, 255], (y * WIDTH + x) * 4);
    }
  };
  for (let y = 40; y < height - 40; y += 28) {
    let x = 80;
    while (x < WIDTH - 200) {
      const w = 20 + Math.floor(random() * 90);
      fill(x, y, w, 12, [60, 60, 60]);
      x += w + 8;
    }
    if (random() < 0.05) fill(80, y + 20, 1100, 120, [30 + Math.floor(random() * 200), 120, 200]);
  }
  if (changed) {
    // A few regions differ: a banner, a moved block, a recoloured button.
    fill(100, 300, 600, 80, [220, 40, 40]);
    fill(800, Math.floor(height / 2), 300, 200, [20, 160, 60]);
    fill(200, height - 400, 160, 48, [250, 200, 0]);
  }
  return pngjs.PNG.sync.write(png);
}

function peakRssMb(pid) {
  return Number(readFileSync(`/proc/${pid}/status`, "utf8").match(/VmHWM:\s+(\d+) kB/)[1]) / 1024;
}

/** The workerd processes started below this Node process. */
function workerdPids() {
  const children = new Map();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const argv0 = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0")[0];
      children.set(Number(entry), { ppid, argv0 });
    } catch {
      // gone
    }
  }
  const below = (pid) => {
    for (let p = children.get(pid)?.ppid; p; p = children.get(p)?.ppid) if (p === process.pid) return true;
    return false;
  };
  return [...children].filter(([pid, p]) => /workerd/.test(p.argv0) && below(pid)).map(([pid]) => pid);
}

async function measureOurs(worker, baseline, capture) {
  const body = Buffer.concat([baseline, capture]);
  const post = async (path) => {
    const started = performance.now();
    const res = await worker.fetch(`http://bench${path}`, { method: "POST", body, headers: { "x-split": String(baseline.length) } });
    const json = await res.json();
    if (!res.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(json)}`);
    return { ms: performance.now() - started, json };
  };
  for (let i = 0; i < 3; i++) await post("/noop");
  // wrangler may run the Worker and its dev proxy in separate workerd processes: count them all.
  const pids = workerdPids();
  if (!pids.length) throw new Error("no workerd process found below the bench");
  const peakOfAll = () => pids.reduce((sum, pid) => sum + peakRssMb(pid), 0);
  const before = peakOfAll();
  const noop = [];
  const compare = [];
  let result;
  let afterFirst;
  for (let i = 0; i < REPEATS; i++) {
    noop.push((await post("/noop")).ms);
    const done = await post(process.env.VISUAL_BENCH_PATH ?? "/compare");
    compare.push(done.ms);
    result = done.json;
    afterFirst ??= peakOfAll();
  }
  const after = peakOfAll();
  return {
    ms: compare.map((ms, i) => ms - noop[i]),
    changedPixels: result.changedPixels,
    firstPeakGrowthMb: afterFirst - before,
    peakGrowthMb: after - before,
    peakRssMb: after,
    processes: pids.length,
  };
}

export async function measureVisual({ log = () => {} } = {}) {
  const { unstable_startWorker } = await import("wrangler");
  const dir = mkdtempSync(join(tmpdir(), "aegis-visual-bench-"));
  const rows = [];
  try {
    for (const height of HEIGHTS) {
      log(`visual: drawing two 1280 × ${height} captures …`);
      const baseline = drawPage(height, false);
      const capture = drawPage(height, true);
      const [a, b] = [join(dir, `base-${height}.png`), join(dir, `shot-${height}.png`)];
      writeFileSync(a, baseline);
      writeFileSync(b, capture);

      const node = JSON.parse(execFileSync(process.execPath, [join(here, "visual-node-compare.mjs"), a, b, String(REPEATS)], { encoding: "utf8" }));
      log(`visual: pixelmatch + pngjs (Node) ${height} px: ${node.ms.map((ms) => round(ms)).join(", ")} ms`);

      // A fresh workerd per size, so each size's peak is its own.
      const worker = await unstable_startWorker({
        config: join(here, "visual-wrangler.toml"),
        dev: { server: { port: 0 }, inspector: false, watch: false },
      });
      let ours;
      try {
        await worker.ready;
        ours = await measureOurs(worker, baseline, capture);
      } finally {
        await worker.dispose();
      }
      log(`visual: ours (workerd) ${height} px: ${ours.ms.map((ms) => round(ms)).join(", ")} ms`);
      rows.push({
        height,
        pngKb: { baseline: round(baseline.length / 1024), capture: round(capture.length / 1024) },
        changedPixels: { ours: ours.changedPixels, pixelmatchPngjs: node.changedPixels },
        ours: {
          medianMs: round(median(ours.ms)),
          ms: ours.ms.map((x) => round(x)),
          firstPeakGrowthMb: round(ours.firstPeakGrowthMb),
          peakGrowthMb: round(ours.peakGrowthMb),
          peakRssMb: round(ours.peakRssMb),
          workerdProcesses: ours.processes,
        },
        baseline: {
          medianMs: round(median(node.ms)),
          ms: node.ms.map((x) => round(x)),
          firstPeakGrowthMb: round(node.peakRssAfterFirstMb - node.peakRssBeforeMb),
          peakGrowthMb: round(node.peakRssAfterMb - node.peakRssBeforeMb),
          peakRssMb: round(node.peakRssAfterMb),
        },
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  for (const row of rows) row.timeRatio = round(row.ours.medianMs / row.baseline.medianMs, 2);
  return { repeats: REPEATS, width: WIDTH, rows, derivation: "ours ms = compare request − same-bytes no-op request (client wall time); memory = growth of the process's VmHWM after the first timed comparison (first) and after all of them, over its value before them (workerd: summed over its processes)" };
}

export function printVisual(visual) {
  console.log("\n5. Visual comparison: one capture against its baseline, 1280 px wide, a few regions changed");
  console.log("   ours = src/visual/compare.ts under workerd (128-row strips, streaming PNG codec); baseline = pixelmatch + pngjs in Node (whole images)");
  console.log(`   median of ${visual.repeats}; ours: compare request − no-op request with the same bytes; memory: growth of peak RSS (VmHWM) after the first comparison / after all ${visual.repeats}\n`);
  const header = ["height px", "PNG KB", "changed px (ours / pm)", "ours ms", "baseline ms", "ours ÷ baseline", "ours peak +MB", "baseline peak +MB"];
  const lines = visual.rows.map((r) => [
    r.height, `${r.pngKb.baseline}+${r.pngKb.capture}`, `${r.changedPixels.ours} / ${r.changedPixels.pixelmatchPngjs}`,
    r.ours.medianMs, r.baseline.medianMs, r.timeRatio,
    `${r.ours.firstPeakGrowthMb} / ${r.ours.peakGrowthMb}`, `${r.baseline.firstPeakGrowthMb} / ${r.baseline.peakGrowthMb}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => String(l[i]).length)));
  console.log(header.map((h, i) => h.padEnd(widths[i])).join("  "));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const l of lines) console.log(l.map((v, i) => String(v).padEnd(widths[i])).join("  "));
  console.log("   aim: ours ≤ 1.5× the baseline's time, and memory that does not grow with the page's height");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const visual = await measureVisual({ log: (line) => console.error(line) });
  printVisual(visual);
  console.log(JSON.stringify({ visual }));
}
