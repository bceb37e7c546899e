// The bench's Worker for "5.": our comparison (src/visual/compare.ts) under workerd. POST a
// baseline and a capture back to back (X-Split: the baseline's length); /noop answers without
// comparing, so the client can subtract what moving the images costs.
import { comparePngs } from "../src/visual/compare";
import { pngRows } from "../src/visual/png";

export default {
  async fetch(request: Request): Promise<Response> {
    const body = new Uint8Array(await request.arrayBuffer());
    if (new URL(request.url).pathname === "/noop") return Response.json({ bytes: body.length });
    const split = Number(request.headers.get("x-split"));
    if (new URL(request.url).pathname === "/decode") {
      // What decoding alone costs: both images' rows, nothing kept.
      let rows = 0;
      for (const _ of pngRows(body.subarray(0, split))) rows++;
      for (const _ of pngRows(body.subarray(split))) rows++;
      return Response.json({ rows });
    }
    const result = await comparePngs(body.subarray(0, split), body.subarray(split));
    return Response.json({ changedPixels: result.changedPixels, changedShare: result.changedShare, diffBytes: result.diffPng?.length ?? 0 });
  },
};
