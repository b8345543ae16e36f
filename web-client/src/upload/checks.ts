/** Checks before an upload, against what the orchestrator publishes in ``/health`` (``limits``):
 * the type told from the content (as the server tells it, shared/uploads.py detect_format), and the
 * size. A file that would be refused is never sent. */
import type { UploadLimits } from "../api/types";

export type FormatName = UploadLimits["formats"][number];

/** How many leading bytes the sniffer needs (a PDF header may follow up to 1 KiB of junk). */
export const SNIFF_BYTES = 1024;

/** Every format the sniffer tells, in the order the server names them. */
export const SNIFFED: readonly FormatName[] = ["png", "jpeg", "webp", "tiff", "bmp", "pdf"];

const startsWith = (head: Uint8Array, bytes: number[], at = 0) => bytes.every((byte, index) => head[at + index] === byte);
const ascii = (text: string) => [...text].map((char) => char.charCodeAt(0));

/** The format of a file from its first bytes (and its size: a BMP header needs 26), or null. */
export function sniffFormat(head: Uint8Array, size: number): FormatName | null {
  if (startsWith(head, [0x89, ...ascii("PNG\r\n\x1a\n")])) return "png";
  if (startsWith(head, [0xff, 0xd8, 0xff])) return "jpeg";
  if (startsWith(head, ascii("RIFF")) && startsWith(head, ascii("WEBP"), 8)) return "webp";
  if (startsWith(head, ascii("II*\0")) || startsWith(head, ascii("MM\0*"))) return "tiff";
  if (startsWith(head, ascii("BM")) && size >= 26) return "bmp";
  const pdf = ascii("%PDF-");
  for (let at = 0; at + pdf.length <= Math.min(head.length, SNIFF_BYTES); at += 1) {
    if (startsWith(head, pdf, at)) return "pdf";
  }
  return null;
}

/** How many leading bytes are read for an image's size: a JPEG's frame header may follow large
 * metadata (EXIF, thumbnails, ICC profiles). */
export const HEADER_BYTES = 256 * 1024;

export interface Pixels {
  width: number;
  height: number;
}

/** An image's width and height from its header alone (nothing is decoded: a decompression bomb is
 * told by its header, as the server tells it); null when the header is not in ``head``. */
export function imageSize(head: Uint8Array, format: FormatName | null): Pixels | null {
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const has = (end: number) => end <= head.length;
  const sized = (width: number, height: number) => (width > 0 && height > 0 ? { width, height } : null);
  switch (format) {
    case "png":
      return has(24) ? sized(view.getUint32(16), view.getUint32(20)) : null;
    case "bmp": {
      if (!has(26)) return null;
      if (view.getUint32(14, true) === 12) return sized(view.getUint16(18, true), view.getUint16(20, true));
      return sized(Math.abs(view.getInt32(18, true)), Math.abs(view.getInt32(22, true)));
    }
    case "webp": {
      const chunk = String.fromCharCode(...head.subarray(12, 16));
      if (chunk === "VP8 " && has(30)) return sized(view.getUint16(26, true) & 0x3fff, view.getUint16(28, true) & 0x3fff);
      if (chunk === "VP8L" && has(25)) {
        const bits = view.getUint32(21, true);
        return sized((bits & 0x3fff) + 1, ((bits >>> 14) & 0x3fff) + 1);
      }
      if (chunk === "VP8X" && has(30)) {
        const u24 = (at: number) => head[at] | (head[at + 1] << 8) | (head[at + 2] << 16);
        return sized(u24(24) + 1, u24(27) + 1);
      }
      return null;
    }
    case "jpeg": {
      let at = 2;
      while (has(at + 4)) {
        if (head[at] !== 0xff) return null;
        const marker = head[at + 1];
        if (marker === 0xff) { at += 1; continue; } // fill byte
        if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd9)) { at += 2; continue; } // no length
        const length = view.getUint16(at + 2);
        const frame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
        if (frame) return has(at + 9) ? sized(view.getUint16(at + 7), view.getUint16(at + 5)) : null;
        at += 2 + length;
      }
      return null;
    }
    case "tiff": {
      if (!has(8)) return null;
      const little = head[0] === 0x49;
      const ifd = view.getUint32(4, little);
      if (!has(ifd + 2)) return null;
      const count = view.getUint16(ifd, little);
      let width = 0;
      let height = 0;
      for (let entry = 0; entry < count && has(ifd + 2 + (entry + 1) * 12); entry += 1) {
        const at = ifd + 2 + entry * 12;
        const tag = view.getUint16(at, little);
        const type = view.getUint16(at + 2, little);
        const value = type === 3 ? view.getUint16(at + 8, little) : type === 4 ? view.getUint32(at + 8, little) : 0;
        if (tag === 256) width = value;
        if (tag === 257) height = value;
      }
      return sized(width, height);
    }
    default:
      return null;
  }
}

export function formatLabel(format: FormatName | null): string {
  if (format === "pdf") return "PDF";
  return format ? `image (${format.toUpperCase()})` : "not an image or PDF";
}

export function sizeLabel(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
  return `${Math.ceil(bytes / 1024)} KiB`;
}

/** Why this file would be refused, or null. Without published limits only the content is checked
 * (against the formats the sniffer knows); the server checks everything again anyway. An image's
 * pixels are checked when its header gave them (``pixels``); a PDF's pages by the server's preview. */
export function uploadProblem(
  file: { size: number; format: FormatName | null; pixels?: Pixels | null }, limits: UploadLimits | null,
): string | null {
  if (file.size === 0) return "The file is empty.";
  if (file.format == null || (limits && !limits.formats.includes(file.format))) {
    const accepted = (limits?.formats ?? SNIFFED).map((name) => name.toUpperCase()).join(", ");
    return `This is not an image or a PDF the server reads (told from its content, not its name): it takes ${accepted}.`;
  }
  if (limits && file.size > limits.max_bytes) {
    const [size, most] = [sizeLabel(file.size), sizeLabel(limits.max_bytes)];
    // Just over: the rounded sizes would read the same, so say the bytes.
    return size === most
      ? `The file is ${file.size} bytes; this server takes files up to ${most} (${limits.max_bytes} bytes).`
      : `The file is ${size}; this server takes files up to ${most}.`;
  }
  if (limits && file.pixels && file.pixels.width * file.pixels.height > limits.max_pixels) {
    const { width, height } = file.pixels;
    const count = (n: number) => n.toLocaleString("en-US");
    return `The image is ${count(width)} × ${count(height)} = ${count(width * height)} pixels; this server takes images up to ${count(limits.max_pixels)} pixels.`;
  }
  return null;
}
