// PNG rows as a stream, both ways, so a full-page capture (1280 × 8000 is 41 MB decoded) never has
// to be whole in a Worker's 128 MB: the decoder inflates a little at a time into a fixed buffer
// (inflate.ts) and hands out one unfiltered RGBA row at a time; the encoder deflates rows as they
// come.
// It reads what Chromium writes (8-bit RGB or RGBA, not interlaced) and writes 8-bit RGBA.

import { InflateError, ZlibInflater } from "./inflate";

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

export type PngHeader = { width: number; height: number };

/** The largest capture decoded: wider than any viewport we set, taller than any full page we capture. */
const MAX_PNG_WIDTH = 16_384;
const MAX_PNG_HEIGHT = 200_000;

export class PngFormatError extends Error {}

/** The IHDR of a PNG, without decoding it. */
export function pngHeader(bytes: Uint8Array): PngHeader & { bitDepth: number; colorType: number; interlace: number } {
  if (bytes.length < 33 || !SIGNATURE.every((b, i) => bytes[i] === b)) throw new PngFormatError("not a PNG");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (String.fromCharCode(...bytes.subarray(12, 16)) !== "IHDR") throw new PngFormatError("PNG without IHDR");
  return { width: view.getUint32(16), height: view.getUint32(20), bitDepth: bytes[24], colorType: bytes[25], interlace: bytes[28] };
}

/** The IDAT payloads of a PNG, in order (views into `bytes`, nothing copied). */
function idatPayloads(bytes: Uint8Array): Uint8Array[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const payloads: Uint8Array[] = [];
  for (let offset = 8; offset + 8 <= bytes.length; ) {
    const length = view.getUint32(offset);
    const type = String.fromCharCode(...bytes.subarray(offset + 4, offset + 8));
    if (type === "IDAT") payloads.push(bytes.subarray(offset + 8, offset + 8 + length));
    if (type === "IEND") break;
    offset += 12 + length;
  }
  return payloads;
}

/** The inflated image data, a piece at a time, inflated only as the rows are read. */
function* inflated(bytes: Uint8Array): Generator<Uint8Array> {
  const payloads = idatPayloads(bytes);
  if (!payloads.length) throw new PngFormatError("PNG without image data");
  try {
    const inflater = new ZlibInflater(payloads);
    for (let data = inflater.read(); data; data = inflater.read()) yield data;
  } catch (error) {
    if (error instanceof InflateError) throw new PngFormatError(`corrupt PNG data: ${error.message}`);
    throw error;
  }
}

const paeth = (a: number, b: number, c: number) => {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
};

/** Undoes a scanline's filter in place (`line` without its filter byte), given the previous unfiltered line. */
function unfilter(filter: number, line: Uint8Array, previous: Uint8Array, bpp: number) {
  const n = line.length;
  switch (filter) {
    case 0:
      return;
    case 1:
      for (let i = bpp; i < n; i++) line[i] = (line[i] + line[i - bpp]) & 255;
      return;
    case 2:
      for (let i = 0; i < n; i++) line[i] = (line[i] + previous[i]) & 255;
      return;
    case 3:
      for (let i = 0; i < n; i++) line[i] = (line[i] + (((i >= bpp ? line[i - bpp] : 0) + previous[i]) >> 1)) & 255;
      return;
    case 4:
      for (let i = 0; i < n; i++) line[i] = (line[i] + paeth(i >= bpp ? line[i - bpp] : 0, previous[i], i >= bpp ? previous[i - bpp] : 0)) & 255;
      return;
    default:
      throw new PngFormatError(`unknown PNG filter ${filter}`);
  }
}

/**
 * The image's rows, top to bottom, each as RGBA (4 × width bytes). The same buffer is reused for
 * every row: copy what you keep. Memory: two scanlines and the inflater's buffers (about 230 KB),
 * whatever the height. Synchronous: the inflater runs in JavaScript, so there is nothing to wait for.
 */
export function* pngRows(bytes: Uint8Array): Generator<Uint8Array> {
  const header = pngHeader(bytes);
  if (header.bitDepth !== 8 || (header.colorType !== 6 && header.colorType !== 2) || header.interlace !== 0) {
    throw new PngFormatError(`unsupported PNG (bit depth ${header.bitDepth}, colour type ${header.colorType}, interlace ${header.interlace})`);
  }
  const { width, height } = header;
  // Row buffers are sized by the header: a width no browser window has is refused, not allocated.
  if (width < 1 || width > MAX_PNG_WIDTH || height < 1 || height > MAX_PNG_HEIGHT) {
    throw new PngFormatError(`unsupported PNG size ${width} × ${height} (at most ${MAX_PNG_WIDTH} × ${MAX_PNG_HEIGHT})`);
  }
  const bpp = header.colorType === 6 ? 4 : 3;
  const stride = width * bpp;
  // Each line is its filter byte and its pixels; `previous` starts as the zero line above the image.
  let previous = new Uint8Array(stride + 1);
  let current = new Uint8Array(stride + 1);
  const rgba = new Uint8Array(width * 4);
  if (bpp === 3) rgba.fill(255);
  let filled = 0;
  let row = 0;
  for (const data of inflated(bytes)) {
    let at = 0;
    while (at < data.length && row < height) {
      const take = Math.min(stride + 1 - filled, data.length - at);
      current.set(data.subarray(at, at + take), filled);
      filled += take;
      at += take;
      if (filled < stride + 1) break;
      const pixels = current.subarray(1);
      unfilter(current[0], pixels, previous.subarray(1), bpp);
      if (bpp === 4) rgba.set(pixels);
      else {
        for (let i = 0, o = 0; i < stride; i += 3, o += 4) {
          rgba[o] = pixels[i];
          rgba[o + 1] = pixels[i + 1];
          rgba[o + 2] = pixels[i + 2];
        }
      }
      yield rgba;
      [previous, current] = [current, previous];
      filled = 0;
      row++;
    }
    if (row === height) return;
  }
  throw new PngFormatError(`PNG data ends at row ${row} of ${height}`);
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(parts: Uint8Array[]): number {
  let c = 0xffffffff;
  for (const part of parts) for (let i = 0; i < part.length; i++) c = CRC_TABLE[(c ^ part[i]) & 255] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const IHDR = new TextEncoder().encode("IHDR");
const IDAT = new TextEncoder().encode("IDAT");
const IEND = new TextEncoder().encode("IEND");
/** Rows handed to the compressor at a time: one write per row cost workerd native memory per write. */
const WRITE_BYTES = 256 * 1024;

/** Writes a chunk (length, type, data, CRC) into `out` at `at`; answers where it ends. */
function putChunk(out: Uint8Array, at: number, type: Uint8Array, data: Uint8Array): number {
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  view.setUint32(at, data.length);
  out.set(type, at + 4);
  out.set(data, at + 8);
  view.setUint32(at + 8 + data.length, crc32([type, data]));
  return at + 12 + data.length;
}

/**
 * Writes an RGBA PNG from rows as they come; `finish()` answers the file. Memory: the compressed
 * output and a batch of rows (WRITE_BYTES), reused: each write is awaited, so the compressor has
 * taken it.
 */
export function pngWriter(width: number, height: number) {
  const lineBytes = width * 4 + 1; // filter 0: the row as it is
  const batchRows = Math.max(1, Math.floor(WRITE_BYTES / lineBytes));
  const batch = new Uint8Array(batchRows * lineBytes);
  let batched = 0;
  const compressor = new CompressionStream("deflate");
  const writer = compressor.writable.getWriter();
  const compressed: Uint8Array[] = [];
  const collected = (async () => {
    const reader = compressor.readable.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      compressed.push(value);
    }
  })();
  const flush = async () => {
    if (batched) await writer.write(batch.subarray(0, batched * lineBytes));
    batched = 0;
  };
  let written = 0;
  return {
    async writeRow(rgba: Uint8Array) {
      if (rgba.length !== width * 4) throw new Error(`a row of ${rgba.length} bytes for width ${width}`);
      batch.set(rgba, batched * lineBytes + 1);
      batched++;
      written++;
      if (batched === batchRows) await flush();
    },
    async finish(): Promise<Uint8Array> {
      if (written !== height) throw new Error(`${written} rows written of ${height}`);
      await flush();
      await writer.close();
      await collected;
      const header = new Uint8Array(13);
      const view = new DataView(header.buffer);
      view.setUint32(0, width);
      view.setUint32(4, height);
      header.set([8, 6, 0, 0, 0], 8);
      const size = SIGNATURE.length + (12 + header.length) + compressed.reduce((sum, data) => sum + 12 + data.length, 0) + 12;
      const out = new Uint8Array(size);
      out.set(SIGNATURE);
      let at = putChunk(out, SIGNATURE.length, IHDR, header);
      for (const data of compressed) at = putChunk(out, at, IDAT, data);
      putChunk(out, at, IEND, new Uint8Array());
      return out;
    },
  };
}
