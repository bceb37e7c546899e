// What a test can tell of a PNG without decoding it: the signature and the IHDR's dimensions.

export const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

const bytesOf = (data: Uint8Array | ArrayBuffer) => (data instanceof Uint8Array ? data : new Uint8Array(data));

/** True when the bytes start with the PNG signature and an IHDR chunk (what every PNG starts with). */
export function isPng(data: Uint8Array | ArrayBuffer) {
  const bytes = bytesOf(data);
  return (
    bytes.length >= 24 &&
    PNG_SIGNATURE.every((byte, i) => bytes[i] === byte) &&
    String.fromCharCode(...bytes.slice(12, 16)) === "IHDR"
  );
}

/** The image's width and height in pixels, from its IHDR chunk; throws when the bytes are not a PNG. */
export function pngSize(data: Uint8Array | ArrayBuffer) {
  const bytes = bytesOf(data);
  if (!isPng(bytes)) throw new Error(`not a PNG: starts with ${[...bytes.slice(0, 16)].map((b) => b.toString(16).padStart(2, "0")).join(" ")}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}
