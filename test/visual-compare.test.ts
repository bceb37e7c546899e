// The streaming PNG codec and the strip-wise comparison, on images made here.
import { describe, expect, it } from "vitest";
import { PngFormatError, pngRows, pngWriter, pngHeader } from "../src/visual/png";
import { comparePngs } from "../src/visual/compare";
import { InflateError, ZlibInflater } from "../src/visual/inflate";

type Paint = (x: number, y: number) => [number, number, number];

async function makePng(width: number, height: number, paint: Paint) {
  const writer = pngWriter(width, height);
  const row = new Uint8Array(width * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) row.set([...paint(x, y), 255], x * 4);
    await writer.writeRow(row);
  }
  return writer.finish();
}

function rowsOf(png: Uint8Array) {
  const rows: Uint8Array[] = [];
  for (const row of pngRows(png)) rows.push(row.slice());
  return rows;
}

const page: Paint = (x, y) => [(x * 7) % 256, (y * 3) % 256, 200];
const expectedRow = (width: number, y: number, paint: Paint) => Array.from({ length: width }, (_, x) => [...paint(x, y), 255]).flat();

// A PNG put together by hand: its chunks as given (the CRCs are not checked by the reader).
function pngOf(header: { width: number; height: number; colorType: number }, chunks: [string, Uint8Array][]) {
  const ihdr = new Uint8Array(13);
  new DataView(ihdr.buffer).setUint32(0, header.width);
  new DataView(ihdr.buffer).setUint32(4, header.height);
  ihdr.set([8, header.colorType, 0, 0, 0], 8);
  const parts = [new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])];
  for (const [type, data] of [["IHDR", ihdr], ...chunks, ["IEND", new Uint8Array()]] as [string, Uint8Array][]) {
    const chunk = new Uint8Array(12 + data.length);
    new DataView(chunk.buffer).setUint32(0, data.length);
    chunk.set(new TextEncoder().encode(type), 4);
    chunk.set(data, 8);
    parts.push(chunk);
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
  return out;
}

/** The IDAT data of a PNG made by pngWriter, joined. */
function idatOf(png: Uint8Array) {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const parts: Uint8Array[] = [];
  for (let at = 8; at < png.length; at += 12 + view.getUint32(at)) {
    if (String.fromCharCode(...png.subarray(at + 4, at + 8)) === "IDAT") parts.push(png.subarray(at + 8, at + 8 + view.getUint32(at)));
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
  return out;
}

async function deflate(data: Uint8Array<ArrayBuffer>) {
  return new Uint8Array(await new Response(new Blob([data]).stream().pipeThrough(new CompressionStream("deflate"))).arrayBuffer());
}

/** Scanlines of `paint` with PNG filter `(y % 5)` on each row (Chromium's encoder picks a filter per row). */
function filteredScanlines(width: number, height: number, bpp: 3 | 4, paint: Paint) {
  const stride = width * bpp;
  const raw = (y: number) => new Uint8Array(Array.from({ length: width }, (_, x) => [...paint(x, y), 255].slice(0, bpp)).flat());
  const out = new Uint8Array(height * (stride + 1));
  let above = new Uint8Array(stride);
  for (let y = 0; y < height; y++) {
    const line = raw(y);
    const filter = y % 5;
    const left = (i: number) => (i >= bpp ? line[i - bpp] : 0);
    const upLeft = (i: number) => (i >= bpp ? above[i - bpp] : 0);
    const paeth = (a: number, b: number, c: number) => {
      const p = a + b - c;
      const [pa, pb, pc] = [Math.abs(p - a), Math.abs(p - b), Math.abs(p - c)];
      return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    };
    out[y * (stride + 1)] = filter;
    for (let i = 0; i < stride; i++) {
      const predicted = [0, left(i), above[i], (left(i) + above[i]) >> 1, paeth(left(i), above[i], upLeft(i))][filter];
      out[y * (stride + 1) + 1 + i] = (line[i] - predicted) & 255;
    }
    above = line;
  }
  return out;
}

describe("the PNG codec", () => {
  it("reads back every row it wrote", async () => {
    const png = await makePng(301, 517, page);
    expect(pngHeader(png)).toMatchObject({ width: 301, height: 517, bitDepth: 8, colorType: 6 });
    const rows = rowsOf(png);
    expect(rows).toHaveLength(517);
    expect([...rows[0].subarray(0, 8)]).toEqual([0, 0, 200, 255, 7, 0, 200, 255]);
    rows.forEach((row, y) => expect([...row], `row ${y}`).toEqual(expectedRow(301, y, page)));
  });

  it("undoes every PNG filter, for RGB and RGBA images", async () => {
    for (const [bpp, colorType] of [[3, 2], [4, 6]] as const) {
      const png = pngOf({ width: 37, height: 23, colorType }, [["IDAT", await deflate(filteredScanlines(37, 23, bpp, page))]]);
      const rows = rowsOf(png);
      expect(rows).toHaveLength(23);
      rows.forEach((row, y) => expect([...row], `colour type ${colorType}, row ${y}`).toEqual(expectedRow(37, y, page)));
    }
  });

  it("reads image data split across many IDAT chunks, even a few bytes each", async () => {
    const data = idatOf(await makePng(200, 300, page));
    const pieces: [string, Uint8Array][] = [];
    for (let at = 0, n = 1; at < data.length; at += n, n = (n % 13) + 1) pieces.push(["IDAT", data.subarray(at, at + n)]);
    expect(pieces.length).toBeGreaterThan(100);
    const rows = rowsOf(pngOf({ width: 200, height: 300, colorType: 6 }, pieces));
    expect(rows).toHaveLength(300);
    rows.forEach((row, y) => expect([...row], `row ${y}`).toEqual(expectedRow(200, y, page)));
  });

  it("reads uncompressed (stored) image data", async () => {
    const scanlines = filteredScanlines(5, 4, 3, page);
    const stored = new Uint8Array([0x78, 0x01, 0x01, scanlines.length & 255, scanlines.length >> 8, ~scanlines.length & 255, (~scanlines.length >> 8) & 255, ...scanlines, 0, 0, 0, 0]);
    expect(rowsOf(pngOf({ width: 5, height: 4, colorType: 2 }, [["IDAT", stored]])).map((row) => [...row])).toEqual([0, 1, 2, 3].map((y) => expectedRow(5, y, page)));
  });

  it("says a truncated PNG ends early, whether cut inside its data or before the last rows", async () => {
    const data = idatOf(await makePng(200, 300, page));
    for (const cut of [10, Math.floor(data.length / 2), data.length - 5]) {
      const png = pngOf({ width: 200, height: 300, colorType: 6 }, [["IDAT", data.subarray(0, cut)]]);
      expect(() => rowsOf(png), `cut at ${cut} of ${data.length}`).toThrow(PngFormatError);
      expect(() => rowsOf(png)).toThrow(/ends early|ends at row/);
    }
    // Complete data, but for fewer rows than the header says.
    const short = pngOf({ width: 200, height: 301, colorType: 6 }, [["IDAT", data]]);
    expect(() => rowsOf(short)).toThrow("PNG data ends at row 300 of 301");
  });

  it("rejects corrupt image data with a clear error", async () => {
    const data = idatOf(await makePng(200, 300, page));
    const notZlib = data.slice();
    notZlib[0] = 0x79;
    expect(() => rowsOf(pngOf({ width: 200, height: 300, colorType: 6 }, [["IDAT", notZlib]]))).toThrow("corrupt PNG data: not a zlib stream");
    const badBlock = data.slice();
    badBlock[2] = 0b111; // final block of the reserved type 3
    expect(() => rowsOf(pngOf({ width: 200, height: 300, colorType: 6 }, [["IDAT", badBlock]]))).toThrow("corrupt PNG data: invalid block type");
    expect(() => rowsOf(pngOf({ width: 200, height: 300, colorType: 6 }, []))).toThrow("PNG without image data");
    // Random bytes in the middle: an error or wrong pixels, never a hang.
    const garbled = data.slice();
    for (let i = 40; i < 80; i++) garbled[i] = (i * 37) & 255;
    try {
      rowsOf(pngOf({ width: 200, height: 300, colorType: 6 }, [["IDAT", garbled]]));
    } catch (error) {
      expect(error).toBeInstanceOf(PngFormatError);
    }
  });
  it("refuses a compressed stream cut anywhere inside its data, never handing back short output", async () => {
    const text = new TextEncoder().encode(`${"aegis ".repeat(40)}end`);
    const zlib = new Uint8Array(await new Response(new Blob([text]).stream().pipeThrough(new CompressionStream("deflate"))).arrayBuffer());
    const drain = (bytes: Uint8Array) => {
      const inflater = new ZlibInflater([bytes]);
      const out: number[] = [];
      for (let piece = inflater.read(); piece; piece = inflater.read()) out.push(...piece);
      return new Uint8Array(out);
    };
    expect(drain(zlib)).toEqual(text);
    // The checksum after the data is not read: without it the data is whole.
    expect(drain(zlib.subarray(0, zlib.length - 4))).toEqual(text);
    for (let cut = 2; cut < zlib.length - 4; cut++) expect(() => drain(zlib.subarray(0, cut)), `cut at ${cut}`).toThrow(InflateError);
  });

  it("refuses a PNG whose header claims a size no capture has, before allocating for it", async () => {
    const png = await makePng(4, 4, page);
    const view = new DataView(png.buffer, png.byteOffset);
    view.setUint32(16, 1_000_000); // width, in IHDR (its CRC is not checked)
    expect(() => rowsOf(png)).toThrow(PngFormatError);
    expect(() => rowsOf(png)).toThrow(/unsupported PNG size 1000000 × 4/);
  });
});

describe("comparing a capture with its baseline", () => {
  it("counts exactly the changed pixels of a tall page, across strip edges, and draws them red in a diff of the capture's size", async () => {
    const baseline = await makePng(1280, 3000, page);
    // A box across the strip edge at row 128, and another near the bottom.
    const inBox = (x: number, y: number) => (x >= 100 && x < 200 && y >= 120 && y < 140) || (x >= 600 && x < 650 && y >= 2900 && y < 2950);
    const capture = await makePng(1280, 3000, (x, y) => (inBox(x, y) ? [0, 0, 0] : page(x, y)));
    const result = await comparePngs(baseline, capture);
    expect(result.changedPixels).toBe(100 * 20 + 50 * 50);
    expect(result.changedShare).toBeCloseTo(4500 / (1280 * 3000), 10);
    expect(pngHeader(result.diffPng!)).toMatchObject({ width: 1280, height: 3000 });
    const rows = rowsOf(result.diffPng!);
    expect([...rows[130].subarray(150 * 4, 151 * 4)]).toEqual([255, 0, 0, 255]);
    expect([...rows[2920].subarray(620 * 4, 621 * 4)]).toEqual([255, 0, 0, 255]);
    expect(rows[10][0]).toBe(rows[10][1]); // unchanged pixels are drawn grey
  });

  it("finds nothing between two identical captures and makes no diff image", async () => {
    const a = await makePng(640, 700, page);
    const b = await makePng(640, 700, page);
    expect(await comparePngs(a, b)).toMatchObject({ changedPixels: 0, changedShare: 0, diffPng: null });
  });

  it("counts a page that grew as changed by the rows it grew", async () => {
    const baseline = await makePng(200, 300, page);
    const capture = await makePng(200, 340, page);
    const result = await comparePngs(baseline, capture);
    expect(result).toMatchObject({ changedPixels: 40 * 200, totalPixels: 200 * 340, height: 340 });
  });
});
