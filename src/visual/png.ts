// PNG rows as a stream, both ways, so a full-page capture (1280 × 8000 is 41 MB decoded) never has
// to be whole in a Worker's 128 MB: the decoder inflates with the runtime's DecompressionStream,
// fed a little at a time, and hands out one unfiltered RGBA row at a time; the encoder deflates
// rows as they come.
// It reads what Chromium writes (8-bit RGB or RGBA, not interlaced) and writes 8-bit RGBA.

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

export type PngHeader = { width: number; height: number };

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

/** Compressed bytes handed to the inflater at a time: what it holds inflated stays near this times the compression ratio. */
const FEED_BYTES = 8 * 1024;
const IDLE = Symbol("idle");

/**
 * The inflated IDAT data, a chunk at a time, fed on demand. workerd's DecompressionStream takes all
 * the input it is given at once and queues everything it inflates (measured: 2.8 MB of IDAT
 * became 20 MB queued before the first read), so piping the whole image through it would hold the
 * whole decoded image. Here input goes in 8 KB at a time, only when no output is waiting.
 */
function inflater(bytes: Uint8Array) {
  const payloads = idatPayloads(bytes);
  const stream = new DecompressionStream("deflate");
  const writer = stream.writable.getWriter();
  const reader = stream.readable.getReader() as ReadableStreamDefaultReader<Uint8Array>;
  let payload = 0;
  let offset = 0;
  let closed = false;
  let pending: Promise<ReadableStreamReadResult<Uint8Array>> | null = null;
  const idle = () => new Promise<typeof IDLE>((resolve) => setTimeout(() => resolve(IDLE), 0));
  return {
    async next(): Promise<Uint8Array | null> {
      for (;;) {
        pending ??= reader.read();
        // Output already queued wins the first race; only when none is, wait a turn of the event loop.
        let result = await Promise.race([pending, Promise.resolve(IDLE)]);
        if (result === IDLE) result = await Promise.race([pending, idle()]);
        if (result !== IDLE) {
          pending = null;
          return result.done ? null : result.value;
        }
        // Nothing inflated is waiting: give the inflater the next few compressed bytes.
        if (payload < payloads.length) {
          const piece = payloads[payload].subarray(offset, offset + FEED_BYTES);
          offset += piece.length;
          if (offset >= payloads[payload].length) [payload, offset] = [payload + 1, 0];
          await writer.write(piece as Uint8Array<ArrayBuffer>);
        } else if (!closed) {
          closed = true;
          await writer.close();
        }
      }
    },
    async cancel() {
      await reader.cancel().catch(() => {});
      await writer.abort().catch(() => {});
    },
  };
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
 * every row: copy what you keep. Peak memory: two scanlines and the inflater's window.
 */
export async function* pngRows(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  const header = pngHeader(bytes);
  if (header.bitDepth !== 8 || (header.colorType !== 6 && header.colorType !== 2) || header.interlace !== 0) {
    throw new PngFormatError(`unsupported PNG (bit depth ${header.bitDepth}, colour type ${header.colorType}, interlace ${header.interlace})`);
  }
  const bpp = header.colorType === 6 ? 4 : 3;
  const stride = header.width * bpp;
  let previous = new Uint8Array(stride);
  let current = new Uint8Array(stride);
  const rgba = new Uint8Array(header.width * 4);
  const pending = new Uint8Array(stride + 1);
  let filled = 0;
  let row = 0;
  const inflated = inflater(bytes);
  try {
    while (row < header.height) {
      const value = await inflated.next();
      if (!value) throw new PngFormatError(`PNG data ends at row ${row} of ${header.height}`);
      let at = 0;
      while (at < value.length && row < header.height) {
        const take = Math.min(stride + 1 - filled, value.length - at);
        pending.set(value.subarray(at, at + take), filled);
        filled += take;
        at += take;
        if (filled < stride + 1) break;
        current.set(pending.subarray(1));
        unfilter(pending[0], current, previous, bpp);
        if (bpp === 4) rgba.set(current);
        else for (let x = 0, i = 0; x < header.width; x++, i += 3) rgba.set([current[i], current[i + 1], current[i + 2], 255], x * 4);
        yield rgba;
        [previous, current] = [current, previous];
        filled = 0;
        row++;
      }
    }
  } finally {
    await inflated.cancel();
  }
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

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  const typeBytes = new TextEncoder().encode(type);
  out.set(typeBytes, 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32([typeBytes, data]));
  return out;
}

/**
 * Writes an RGBA PNG from rows as they come; `finish()` answers the file. Memory: the compressed
 * output and one line buffer, reused (each write is awaited, so the compressor has taken it).
 */
export function pngWriter(width: number, height: number) {
  const line = new Uint8Array(width * 4 + 1); // filter 0: the row as it is
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
  let written = 0;
  return {
    async writeRow(rgba: Uint8Array) {
      if (rgba.length !== width * 4) throw new Error(`a row of ${rgba.length} bytes for width ${width}`);
      line.set(rgba, 1);
      await writer.write(line);
      written++;
    },
    async finish(): Promise<Uint8Array> {
      if (written !== height) throw new Error(`${written} rows written of ${height}`);
      await writer.close();
      await collected;
      const header = new Uint8Array(13);
      const view = new DataView(header.buffer);
      view.setUint32(0, width);
      view.setUint32(4, height);
      header.set([8, 6, 0, 0, 0], 8);
      const parts = [new Uint8Array(SIGNATURE), chunk("IHDR", header), ...compressed.map((data) => chunk("IDAT", data)), chunk("IEND", new Uint8Array())];
      const out = new Uint8Array(parts.reduce((sum, p) => sum + p.length, 0));
      let at = 0;
      for (const part of parts) {
        out.set(part, at);
        at += part.length;
      }
      return out;
    },
  };
}
