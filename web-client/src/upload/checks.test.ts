import { describe, expect, it } from "vitest";
import type { UploadLimits } from "../api/types";
import { formatLabel, imageSize, sizeLabel, sniffFormat, uploadProblem } from "./checks";
import fixtures from "./fixtures/images.json";

const bytes = (...parts: (string | number[])[]) =>
  new Uint8Array(parts.flatMap((part) => (typeof part === "string" ? [...part].map((c) => c.charCodeAt(0)) : part)));

const LIMITS: UploadLimits = { max_bytes: 50 * 1024 * 1024, max_pixels: 60_000_000, max_pdf_pages: 200, formats: ["png", "jpeg", "webp", "tiff", "bmp", "pdf"] };

describe("type by content", () => {
  it("tells each format the server reads from its first bytes, not the name", () => {
    expect(sniffFormat(bytes([0x89], "PNG\r\n\x1a\n"), 100)).toBe("png");
    expect(sniffFormat(bytes([0xff, 0xd8, 0xff, 0xe0]), 100)).toBe("jpeg");
    expect(sniffFormat(bytes("RIFF", [1, 2, 3, 4], "WEBPVP8 "), 100)).toBe("webp");
    expect(sniffFormat(bytes("II*\0"), 100)).toBe("tiff");
    expect(sniffFormat(bytes("MM\0*"), 100)).toBe("tiff");
    expect(sniffFormat(bytes("BM"), 100)).toBe("bmp");
    expect(sniffFormat(bytes("BM"), 10)).toBeNull();
    expect(sniffFormat(bytes("%PDF-1.7"), 100)).toBe("pdf");
    expect(sniffFormat(bytes("junk before the header %PDF-1.4"), 100)).toBe("pdf");
    expect(sniffFormat(bytes("Hello, a text file"), 100)).toBeNull();
    expect(sniffFormat(new Uint8Array(), 0)).toBeNull();
  });

  it("labels it", () => {
    expect(formatLabel("pdf")).toBe("PDF");
    expect(formatLabel("png")).toBe("image (PNG)");
    expect(formatLabel(null)).toBe("not an image or PDF");
    expect(sizeLabel(47 * 1024)).toBe("47 KiB");
    expect(sizeLabel(55 * 1024 * 1024)).toBe("55.0 MiB");
  });
});

describe("checks before upload", () => {
  it("refuses what the server would refuse: no known format, too large, empty", () => {
    expect(uploadProblem({ size: 10, format: null }, LIMITS)).toContain("not an image or a PDF");
    expect(uploadProblem({ size: 55 * 1024 * 1024, format: "png" }, LIMITS)).toBe("The file is 55.0 MiB; this server takes files up to 50.0 MiB.");
    expect(uploadProblem({ size: 0, format: null }, LIMITS)).toBe("The file is empty.");
    expect(uploadProblem({ size: 1000, format: "pdf" }, LIMITS)).toBeNull();
    expect(uploadProblem({ size: LIMITS.max_bytes + 1, format: "png" }, LIMITS))
      .toBe("The file is 52428801 bytes; this server takes files up to 50.0 MiB (52428800 bytes).");
  });

  it("follows the limits the server publishes", () => {
    const strict = { ...LIMITS, max_bytes: 1000, formats: ["png", "pdf"] as UploadLimits["formats"] };
    expect(uploadProblem({ size: 1001, format: "pdf" }, strict)).toContain("up to 1 KiB");
    expect(uploadProblem({ size: 10, format: "tiff" }, strict)).toContain("it takes PNG, PDF");
  });

  it("without published limits checks the content only", () => {
    expect(uploadProblem({ size: 10 ** 9, format: "png" }, null)).toBeNull();
    expect(uploadProblem({ size: 10, format: null }, null)).toContain("PNG, JPEG, WEBP, TIFF, BMP, PDF");
  });
});

describe("an image's pixels from its header", () => {
  const decoded = (base64: string) => Uint8Array.from(atob(base64), (char) => char.charCodeAt(0));
  const size = { width: 37, height: 23 };

  it("reads the size each format's header gives, as Pillow wrote it", () => {
    for (const [name, format] of [["png", "png"], ["jpeg", "jpeg"], ["webp_lossy", "webp"], ["webp_lossless", "webp"],
      ["webp_extended", "webp"], ["tiff", "tiff"], ["bmp", "bmp"]] as const) {
      const head = decoded(fixtures[name]);
      expect(sniffFormat(head, head.length), name).toBe(format);
      expect(imageSize(head, format), name).toEqual(size);
    }
  });

  it("reads a big-endian TIFF, and says nothing of a header it does not have", () => {
    const mm = bytes("MM\0*", [0, 0, 0, 8], [0, 2], [1, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0x75, 0x30], [1, 1, 0, 3, 0, 0, 0, 1, 0x75, 0x30, 0, 0]);
    expect(imageSize(mm, "tiff")).toEqual({ width: 30000, height: 30000 });
    expect(imageSize(decoded(fixtures.png).subarray(0, 20), "png")).toBeNull();
    expect(imageSize(decoded(fixtures.jpeg).subarray(0, 100), "jpeg")).toBeNull();
    expect(imageSize(bytes("II*\0", [0xff, 0xff, 0, 0]), "tiff")).toBeNull();
    expect(imageSize(decoded(fixtures.png), "pdf")).toBeNull();
  });

  it("refuses an image over the server's pixel limit before any upload (a bomb is told by its header)", () => {
    expect(uploadProblem({ size: 100, format: "png", pixels: { width: 30000, height: 30000 } }, LIMITS))
      .toBe("The image is 30,000 × 30,000 = 900,000,000 pixels; this server takes images up to 60,000,000 pixels.");
    expect(uploadProblem({ size: 100, format: "png", pixels: size }, LIMITS)).toBeNull();
    expect(uploadProblem({ size: 100, format: "png", pixels: null }, LIMITS)).toBeNull();
    expect(uploadProblem({ size: 100, format: "png", pixels: { width: 30000, height: 30000 } }, null)).toBeNull();
  });
});
