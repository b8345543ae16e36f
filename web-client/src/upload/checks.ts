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

export function formatLabel(format: FormatName | null): string {
  if (format === "pdf") return "PDF";
  return format ? `image (${format.toUpperCase()})` : "not an image or PDF";
}

export function sizeLabel(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
  return `${Math.ceil(bytes / 1024)} KiB`;
}

/** Why this file would be refused, or null. Without published limits only the content is checked
 * (against the formats the sniffer knows); the server checks everything again anyway. */
export function uploadProblem(file: { size: number; format: FormatName | null }, limits: UploadLimits | null): string | null {
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
  return null;
}
