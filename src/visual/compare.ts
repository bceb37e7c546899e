// Compares a capture with its baseline in horizontal strips, so peak memory stays about 3 MB of
// buffers whatever the page height (the strips, two decoders, a batch of diff rows): pixelmatch (anti-aliased pixels ignored) runs on each strip
// with two rows of context above and below, which it reads for its anti-aliasing test but does
// not count (its ignoreMask), and the diff image is encoded row by row as the strips go.
import pixelmatch from "pixelmatch";
import { pngHeader, pngRows, pngWriter } from "./png";

const STRIP_ROWS = 128;
/** pixelmatch's anti-aliasing test looks up to two pixels away. */
const CONTEXT_ROWS = 2;
const CHANGED = [255, 0, 0, 255];

export type Comparison = {
  width: number;
  height: number;
  changedPixels: number;
  /** Pixels of the larger of the two images. */
  totalPixels: number;
  changedShare: number;
  /** The capture, faded, with changed pixels in red (anti-aliased ones in yellow); null when nothing changed. */
  diffPng: Uint8Array | null;
};

export async function comparePngs(baseline: Uint8Array, capture: Uint8Array, options: { pixelThreshold?: number } = {}): Promise<Comparison> {
  const base = pngHeader(baseline);
  const shot = pngHeader(capture);
  const width = shot.width;
  const rowBytes = width * 4;
  const totalPixels = Math.max(base.width * base.height, shot.width * shot.height);
  const diff = pngWriter(shot.width, shot.height);
  const red = new Uint8Array(rowBytes);
  for (let x = 0; x < width; x++) red.set(CHANGED, x * 4);
  let changedPixels = 0;

  if (base.width !== shot.width) {
    // Another viewport width: nothing lines up, everything changed.
    for (let y = 0; y < shot.height; y++) await diff.writeRow(red);
    return { width, height: shot.height, changedPixels: totalPixels, totalPixels, changedShare: 1, diffPng: await diff.finish() };
  }

  // Every buffer is allocated once, for the tallest strip: its rows, two rows of context each side.
  const windowRows = STRIP_ROWS + 2 * CONTEXT_ROWS;
  const stripA = new Uint8Array(windowRows * rowBytes);
  const stripB = new Uint8Array(windowRows * rowBytes);
  const output = new Uint8Array(windowRows * rowBytes);
  const ignoreMask = new Uint8Array(windowRows * width);
  const common = Math.min(base.height, shot.height);
  const rowsA = pngRows(baseline);
  const rowsB = pngRows(capture);
  // Rows of the image held in the strip buffers: row `held` is at position 0.
  let held = 0;
  let heldCount = 0;
  try {
    for (let start = 0; start < common; start += STRIP_ROWS) {
      const end = Math.min(start + STRIP_ROWS, common);
      const from = Math.max(0, start - CONTEXT_ROWS);
      const to = Math.min(end + CONTEXT_ROWS, common);
      // Keep the rows this strip shares with the last one (its top context and first rows).
      const keep = Math.max(0, held + heldCount - from);
      stripA.copyWithin(0, (from - held) * rowBytes, (from - held + keep) * rowBytes);
      stripB.copyWithin(0, (from - held) * rowBytes, (from - held + keep) * rowBytes);
      for (let y = from + keep; y < to; y++) {
        const a = rowsA.next();
        const b = rowsB.next();
        if (a.done || b.done) throw new Error("a PNG ended before its height");
        stripA.set(a.value, (y - from) * rowBytes);
        stripB.set(b.value, (y - from) * rowBytes);
      }
      held = from;
      heldCount = to - from;
      // Context rows are read for the anti-aliasing test, not counted.
      const rows = to - from;
      ignoreMask.fill(0, 0, rows * width);
      ignoreMask.fill(1, 0, (start - from) * width);
      ignoreMask.fill(1, (end - from) * width, rows * width);
      changedPixels += pixelmatch(
        stripA.subarray(0, rows * rowBytes),
        stripB.subarray(0, rows * rowBytes),
        output.subarray(0, rows * rowBytes),
        width,
        rows,
        { threshold: options.pixelThreshold ?? 0.1, ignoreMask: ignoreMask.subarray(0, rows * width) },
      );
      for (let y = start; y < end; y++) await diff.writeRow(output.subarray((y - from) * rowBytes, (y - from + 1) * rowBytes));
    }
    // A taller capture: its extra rows are changed; a taller baseline's extra rows count too.
    for (let y = common; y < shot.height; y++) await diff.writeRow(red);
    changedPixels += Math.abs(base.height - shot.height) * width;
  } finally {
    rowsA.return(undefined);
    rowsB.return(undefined);
  }
  const png = await diff.finish();
  return { width, height: shot.height, changedPixels, totalPixels, changedShare: changedPixels / totalPixels, diffPng: changedPixels > 0 ? png : null };
}
