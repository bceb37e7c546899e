// The baseline of "5.", in a Node process of its own so its peak memory is its own: pixelmatch
// with pngjs, as their READMEs show it (decode both images whole, compare, encode the diff).
// Prints JSON: per-repeat milliseconds, changed pixels, and the process's peak RSS before, after the
// first comparison and after all of them.
import { readFileSync } from "node:fs";
import pixelmatch from "pixelmatch";
import pngjs from "pngjs";

const [baselinePath, capturePath, repeats = "3"] = process.argv.slice(2);
const peakRssMb = () => Number(readFileSync("/proc/self/status", "utf8").match(/VmHWM:\s+(\d+) kB/)[1]) / 1024;
const baselineBytes = readFileSync(baselinePath);
const captureBytes = readFileSync(capturePath);
const before = peakRssMb();
const ms = [];
let changedPixels = 0;
let afterFirst;
for (let i = 0; i < Number(repeats); i++) {
  const started = performance.now();
  const a = pngjs.PNG.sync.read(baselineBytes);
  const b = pngjs.PNG.sync.read(captureBytes);
  const diff = new pngjs.PNG({ width: a.width, height: a.height });
  changedPixels = pixelmatch(a.data, b.data, diff.data, a.width, a.height, { threshold: 0.1 });
  pngjs.PNG.sync.write(diff);
  ms.push(performance.now() - started);
  afterFirst ??= peakRssMb();
}
console.log(JSON.stringify({ ms, changedPixels, peakRssBeforeMb: before, peakRssAfterFirstMb: afterFirst, peakRssAfterMb: peakRssMb() }));
