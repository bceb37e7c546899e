// A zlib (RFC 1950/1951) inflater that allocates nothing per byte: it reads compressed data from
// pieces already in memory (a PNG's IDAT payloads, not copied) and writes into one fixed buffer,
// a 32 KB window plus OUTPUT_BYTES, handing out a view of each OUTPUT_BYTES it fills. It only
// inflates when asked for more, so nothing waits in a queue. Streaming inflaters (the runtime's
// DecompressionStream, fflate's Inflate) allocate a fresh buffer for every piece they hand out;
// at 250 MB of pixels per comparison that garbage was most of the Worker's peak memory
// (bench/README.md, "5.").
// The adler-32 checksum at the end is not checked: it would cost a pass over every byte.

export class InflateError extends Error {}

const WINDOW = 32 * 1024;
const OUTPUT_BYTES = 64 * 1024;
/** The longest match: the buffer keeps this much room past the point where it hands out. */
const MAX_MATCH = 258;
/** Input bytes one length/distance pair can take at most (15 + 5 + 15 + 13 bits), rounded up. */
const MAX_SYMBOL_BYTES = 8;

const LENGTH_BASE = new Uint16Array([3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]);
const LENGTH_EXTRA = new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]);
const DIST_BASE = new Uint16Array([1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]);
const DIST_EXTRA = new Uint8Array([0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]);
/** The order in which a dynamic block lists its code-length code lengths. */
const CODE_LENGTH_ORDER = new Uint8Array([16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]);

/**
 * Fills `table` so that the next `maxBits` input bits (least significant first) index the symbol
 * they start with: entry = symbol << 4 | code length, 0 where no code starts. Answers maxBits.
 */
function buildTable(lengths: Uint8Array, count: number, table: Uint16Array): number {
  const perLength = new Uint16Array(16);
  for (let i = 0; i < count; i++) perLength[lengths[i]]++;
  perLength[0] = 0;
  let maxBits = 0;
  let left = 1;
  for (let bits = 1; bits <= 15; bits++) {
    left = (left << 1) - perLength[bits];
    if (left < 0) throw new InflateError("invalid Huffman code (over-subscribed)");
    if (perLength[bits]) maxBits = bits;
  }
  const next = new Uint16Array(16);
  for (let bits = 1, code = 0; bits <= 15; bits++) next[bits] = code = (code + perLength[bits - 1]) << 1;
  const size = 1 << maxBits;
  table.fill(0, 0, size);
  for (let symbol = 0; symbol < count; symbol++) {
    const length = lengths[symbol];
    if (!length) continue;
    const code = next[length]++;
    let reversed = 0;
    for (let i = 0; i < length; i++) reversed |= ((code >> i) & 1) << (length - 1 - i);
    const entry = (symbol << 4) | length;
    for (let at = reversed; at < size; at += 1 << length) table[at] = entry;
  }
  return maxBits;
}

/**
 * Inflates the zlib stream made of `pieces` in order. `read()` answers the next inflated bytes as
 * a view of a reused buffer, valid until the next call, or null at the end of the stream.
 * Input may end early only where nothing more is read: a cut stream throws when it is reached.
 */
export class ZlibInflater {
  private readonly out = new Uint8Array(WINDOW + OUTPUT_BYTES + MAX_MATCH);
  private pos = 0;
  private start = 0;
  // The bit reader: up to 31 bits in `bits`, least significant first, read from pieces[piece] at `at`.
  private piece = 0;
  private data: Uint8Array;
  private at = 0;
  private bits = 0;
  private count = 0;
  /** Zero bytes given past the end of the input. */
  private overrun = 0;
  // Where the stream is: between blocks, inside a stored block, inside a Huffman-coded block.
  private state: "blocks" | "stored" | "codes" | "done" = "blocks";
  private final = 0;
  private storedLeft = 0;
  private readonly lengths = new Uint8Array(288 + 32);
  private readonly codeLengths = new Uint16Array(1 << 7);
  private readonly literals = new Uint16Array(1 << 15);
  private readonly distances = new Uint16Array(1 << 15);
  private literalMask = 0;
  private distanceMask = 0;

  private readonly pieces: Uint8Array[];

  constructor(pieces: Uint8Array[]) {
    this.pieces = pieces;
    this.data = pieces.length ? pieces[0] : new Uint8Array(0);
    this.guard(() => {
      const cmf = this.take(8);
      const flg = this.take(8);
      if ((cmf & 15) !== 8 || cmf >> 4 > 7 || ((cmf << 8) | flg) % 31 !== 0) throw new InflateError("not a zlib stream");
      if (flg & 32) throw new InflateError("zlib stream with a preset dictionary");
    });
  }

  read(): Uint8Array | null {
    if (this.pos >= WINDOW + OUTPUT_BYTES) {
      // What was handed out last time is read: keep the window, reuse the rest.
      this.out.copyWithin(0, this.pos - WINDOW, this.pos);
      this.pos = this.start = WINDOW;
    }
    this.guard(() => {
      while (this.state !== "done" && this.pos < WINDOW + OUTPUT_BYTES) {
        if (this.state === "blocks") this.blockHeader();
        else if (this.state === "stored") this.stored();
        else this.codes();
      }
    });
    if (this.pos === this.start) return null;
    const view = this.out.subarray(this.start, this.pos);
    this.start = this.pos;
    return view;
  }

  /** Zeros read past the end make any error; say what happened instead. */
  private guard(run: () => void) {
    try {
      run();
    } catch (error) {
      if (error instanceof InflateError && this.overrun * 8 > this.count) throw new InflateError("compressed data ends early");
      throw error;
    }
  }

  /** The next input byte; past the end, zeros (a few are read ahead), then an error. */
  private nextByte(): number {
    while (this.at >= this.data.length) {
      if (this.piece + 1 >= this.pieces.length) {
        // Up to 3 bytes are read ahead of what is decoded; a 4th means the stream itself is cut.
        if (++this.overrun > 3) throw new InflateError("compressed data ends early");
        return 0;
      }
      this.data = this.pieces[++this.piece];
      this.at = 0;
    }
    return this.data[this.at++];
  }

  private need(n: number) {
    while (this.count < n) {
      this.bits |= this.nextByte() << this.count;
      this.count += 8;
    }
  }

  private take(n: number): number {
    this.need(n);
    const value = this.bits & ((1 << n) - 1);
    this.bits >>>= n;
    this.count -= n;
    return value;
  }

  /** Decodes one symbol of `table` (maxBits wide, as `mask`). */
  private symbol(table: Uint16Array, mask: number, what: string): number {
    this.need(15);
    const entry = table[this.bits & mask];
    if (!entry) throw new InflateError(`invalid ${what} code`);
    this.bits >>>= entry & 15;
    this.count -= entry & 15;
    return entry >> 4;
  }

  private blockHeader() {
    if (this.final) {
      // Zero bits read past the end decode as a fixed block's end code: a cut-off final block would otherwise pass.
      if (this.overrun * 8 > this.count) throw new InflateError("compressed data ends early");
      this.state = "done";
      return;
    }
    this.final = this.take(1);
    const type = this.take(2);
    if (type === 0) {
      this.take(this.count & 7);
      const length = this.take(16);
      if ((this.take(16) ^ 0xffff) !== length) throw new InflateError("invalid stored block length");
      this.storedLeft = length;
      this.state = "stored";
      return;
    }
    const { lengths, literals, distances } = this;
    let literalBits: number;
    let distanceBits: number;
    if (type === 1) {
      lengths.fill(8, 0, 144).fill(9, 144, 256).fill(7, 256, 280).fill(8, 280, 288);
      literalBits = buildTable(lengths, 288, literals);
      lengths.fill(5, 0, 30);
      distanceBits = buildTable(lengths, 30, distances);
    } else if (type === 2) {
      const literalCount = this.take(5) + 257;
      const distanceCount = this.take(5) + 1;
      const codeLengthCount = this.take(4) + 4;
      if (literalCount > 286 || distanceCount > 30) throw new InflateError("invalid dynamic block header");
      lengths.fill(0, 0, 19);
      for (let i = 0; i < codeLengthCount; i++) lengths[CODE_LENGTH_ORDER[i]] = this.take(3);
      const codeLengthMask = (1 << buildTable(lengths, 19, this.codeLengths)) - 1;
      const total = literalCount + distanceCount;
      for (let i = 0; i < total; ) {
        const symbol = this.symbol(this.codeLengths, codeLengthMask, "code length");
        if (symbol < 16) {
          lengths[i++] = symbol;
          continue;
        }
        let repeat: number;
        let value = 0;
        if (symbol === 16) {
          if (i === 0) throw new InflateError("repeat of no code length");
          value = lengths[i - 1];
          repeat = 3 + this.take(2);
        } else repeat = symbol === 17 ? 3 + this.take(3) : 11 + this.take(7);
        if (i + repeat > total) throw new InflateError("code lengths overflow");
        lengths.fill(value, i, i + repeat);
        i += repeat;
      }
      if (!lengths[256]) throw new InflateError("block without an end code");
      literalBits = buildTable(lengths, literalCount, literals);
      lengths.copyWithin(0, literalCount, total);
      distanceBits = buildTable(lengths, distanceCount, distances);
    } else throw new InflateError("invalid block type");
    this.literalMask = (1 << literalBits) - 1;
    // No distance codes (all lengths 0): the table is one empty entry, so a match is an error.
    this.distanceMask = (1 << distanceBits) - 1;
    this.state = "codes";
  }

  private stored() {
    const end = WINDOW + OUTPUT_BYTES;
    while (this.storedLeft > 0 && this.pos < end) {
      if (this.count) {
        // Whole bytes the reader already holds come first (the last `overrun` of them are not data).
        if (this.count / 8 <= this.overrun) throw new InflateError("compressed data ends early");
        this.out[this.pos++] = this.take(8);
        this.storedLeft--;
      } else if (this.at >= this.data.length) {
        this.out[this.pos++] = this.nextByte();
        if (this.overrun) throw new InflateError("compressed data ends early");
        this.storedLeft--;
      } else {
        const n = Math.min(this.storedLeft, end - this.pos, this.data.length - this.at);
        this.out.set(this.data.subarray(this.at, this.at + n), this.pos);
        this.at += n;
        this.pos += n;
        this.storedLeft -= n;
      }
    }
    if (!this.storedLeft) this.state = "blocks";
  }

  /**
   * Huffman-coded symbols until the block ends or the buffer is full. The loop keeps the reader
   * in locals and reads input without checks while a whole symbol surely fits in the current
   * piece (at most 7 bytes: refills add a byte at a time and stop at 22 to 27 bits, under 32);
   * near a piece's end it decodes one symbol at a time through the checked reader.
   */
  private codes() {
    const { out, literals, distances, literalMask, distanceMask } = this;
    const end = WINDOW + OUTPUT_BYTES;
    let { pos, bits, count, at, data } = this;
    let fastEnd = data.length - MAX_SYMBOL_BYTES;
    try {
      while (pos < end) {
        let length = 0;
        let distance = 0;
        if (at < fastEnd) {
          while (count < 15) {
            bits |= data[at++] << count;
            count += 8;
          }
          const entry = literals[bits & literalMask];
          if (!entry) throw new InflateError("invalid literal/length code");
          bits >>>= entry & 15;
          count -= entry & 15;
          const symbol = entry >> 4;
          if (symbol < 256) {
            out[pos++] = symbol;
            continue;
          }
          if (symbol === 256) {
            this.state = "blocks";
            break;
          }
          const index = symbol - 257;
          if (index >= 29) throw new InflateError("invalid length code");
          // The length's extra bits and the distance code: 20 bits at most.
          while (count < 20) {
            bits |= data[at++] << count;
            count += 8;
          }
          const extra = LENGTH_EXTRA[index];
          length = LENGTH_BASE[index] + (bits & ((1 << extra) - 1));
          bits >>>= extra;
          count -= extra;
          const distanceEntry = distances[bits & distanceMask];
          if (!distanceEntry) throw new InflateError("invalid distance code");
          bits >>>= distanceEntry & 15;
          count -= distanceEntry & 15;
          const distanceIndex = distanceEntry >> 4;
          if (distanceIndex >= 30) throw new InflateError("invalid distance code");
          const distanceExtra = DIST_EXTRA[distanceIndex];
          while (count < distanceExtra) {
            bits |= data[at++] << count;
            count += 8;
          }
          distance = DIST_BASE[distanceIndex] + (bits & ((1 << distanceExtra) - 1));
          bits >>>= distanceExtra;
          count -= distanceExtra;
        } else {
          // Near the end of a piece: the checked reader, one symbol.
          this.pos = pos;
          this.bits = bits;
          this.count = count;
          this.at = at;
          const symbol = this.symbol(literals, literalMask, "literal/length");
          if (symbol > 256) {
            const index = symbol - 257;
            if (index >= 29) throw new InflateError("invalid length code");
            length = LENGTH_BASE[index] + this.take(LENGTH_EXTRA[index]);
            const distanceIndex = this.symbol(distances, distanceMask, "distance");
            if (distanceIndex >= 30) throw new InflateError("invalid distance code");
            distance = DIST_BASE[distanceIndex] + this.take(DIST_EXTRA[distanceIndex]);
          }
          ({ bits, count, at, data } = this);
          fastEnd = data.length - MAX_SYMBOL_BYTES;
          if (symbol < 256) {
            out[pos++] = symbol;
            continue;
          }
          if (symbol === 256) {
            this.state = "blocks";
            break;
          }
        }
        if (distance > pos) throw new InflateError("distance too far back");
        if (length >= 64 && distance >= length) {
          // A long copy that does not overlap itself (runs of white, the row above): natively.
          out.copyWithin(pos, pos - distance, pos - distance + length);
          pos += length;
        } else {
          for (const stop = pos + length; pos < stop; pos++) out[pos] = out[pos - distance];
        }
      }
    } finally {
      this.pos = pos;
      this.bits = bits;
      this.count = count;
      this.at = at;
      this.data = data;
    }
  }
}
