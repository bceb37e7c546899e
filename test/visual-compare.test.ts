// The streaming PNG codec and the strip-wise comparison, on images made here.
import { describe, expect, it } from "vitest";
import { pngRows, pngWriter, pngHeader } from "../src/visual/png";
import { comparePngs } from "../src/visual/compare";

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

async function rowsOf(png: Uint8Array) {
  const rows: Uint8Array[] = [];
  for await (const row of pngRows(png)) rows.push(row.slice());
  return rows;
}

const page: Paint = (x, y) => [(x * 7) % 256, (y * 3) % 256, 200];

describe("the PNG codec", () => {
  it("reads back every row it wrote", async () => {
    const png = await makePng(301, 517, page);
    expect(pngHeader(png)).toMatchObject({ width: 301, height: 517, bitDepth: 8, colorType: 6 });
    const rows = await rowsOf(png);
    expect(rows).toHaveLength(517);
    expect([...rows[0].subarray(0, 8)]).toEqual([0, 0, 200, 255, 7, 0, 200, 255]);
    expect([...rows[516].subarray(4 * 300, 4 * 301)]).toEqual([...page(300, 516), 255]);
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
    const rows = await rowsOf(result.diffPng!);
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
