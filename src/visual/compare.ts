// Compares a capture with its baseline in horizontal strips, so peak memory stays a few hundred
// kilobytes whatever the page height: pixelmatch (anti-aliased pixels ignored) runs on each strip
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

/** Rows of a PNG, copied (the decoder reuses its buffer), with a look-ahead of what has been read. */
class RowReader {
  private readonly rows: AsyncGenerator<Uint8Array>;
  private done = false;
  constructor(png: Uint8Array) {
    this.rows = pngRows(png);
  }
  async next(): Promise<Uint8Array | null> {
    if (this.done) return null;
    const { done, value } = await this.rows.next();
    if (done) {
      this.done = true;
      return null;
    }
    return value.slice();
  }
  async close() {
    await this.rows.return(undefined);
  }
}

export async function comparePngs(baseline: Uint8Array, capture: Uint8Array, options: { pixelThreshold?: number } = {}): Promise<Comparison> {
  const base = pngHeader(baseline);
  const shot = pngHeader(capture);
  const width = shot.width;
  const totalPixels = Math.max(base.width * base.height, shot.width * shot.height);
  const diff = pngWriter(shot.width, shot.height);
  let changedPixels = 0;

  if (base.width !== shot.width) {
    // Another viewport width: nothing lines up, everything changed.
    const red = new Uint8Array(width * 4);
    for (let x = 0; x < width; x++) red.set(CHANGED, x * 4);
    for (let y = 0; y < shot.height; y++) await diff.writeRow(red);
    return { width, height: shot.height, changedPixels: totalPixels, totalPixels, changedShare: 1, diffPng: await diff.finish() };
  }

  const common = Math.min(base.height, shot.height);
  const a = new RowReader(baseline);
  const b = new RowReader(capture);
  // Rows read so far and not yet dropped: window[0] is row `windowStart`.
  const windowA: Uint8Array[] = [];
  const windowB: Uint8Array[] = [];
  let windowStart = 0;
  try {
    for (let start = 0; start < common; start += STRIP_ROWS) {
      const end = Math.min(start + STRIP_ROWS, common);
      const readTo = Math.min(end + CONTEXT_ROWS, common);
      while (windowStart + windowA.length < readTo) {
        const [rowA, rowB] = await Promise.all([a.next(), b.next()]);
        if (!rowA || !rowB) throw new Error("a PNG ended before its height");
        windowA.push(rowA);
        windowB.push(rowB);
      }
      const from = Math.max(0, start - CONTEXT_ROWS);
      const rows = readTo - from;
      const stripA = new Uint8Array(rows * width * 4);
      const stripB = new Uint8Array(rows * width * 4);
      for (let y = from; y < readTo; y++) {
        stripA.set(windowA[y - windowStart], (y - from) * width * 4);
        stripB.set(windowB[y - windowStart], (y - from) * width * 4);
      }
      // Context rows are read, not counted.
      const ignoreMask = new Uint8Array(rows * width);
      ignoreMask.fill(1, 0, (start - from) * width);
      ignoreMask.fill(1, (end - from) * width);
      const output = new Uint8Array(rows * width * 4);
      changedPixels += pixelmatch(stripA, stripB, output, width, rows, { threshold: options.pixelThreshold ?? 0.1, ignoreMask });
      for (let y = start; y < end; y++) await diff.writeRow(output.subarray((y - from) * width * 4, (y - from + 1) * width * 4));
      // Keep only the rows the next strip reads as its context.
      const keepFrom = Math.max(0, end - CONTEXT_ROWS);
      windowA.splice(0, keepFrom - windowStart);
      windowB.splice(0, keepFrom - windowStart);
      windowStart = keepFrom;
    }
    // A taller capture: its extra rows are changed; a taller baseline's extra rows count too.
    const red = new Uint8Array(width * 4);
    for (let x = 0; x < width; x++) red.set(CHANGED, x * 4);
    for (let y = common; y < shot.height; y++) await diff.writeRow(red);
    changedPixels += Math.abs(base.height - shot.height) * width;
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
  const png = await diff.finish();
  return { width, height: shot.height, changedPixels, totalPixels, changedShare: changedPixels / totalPixels, diffPng: changedPixels > 0 ? png : null };
}
