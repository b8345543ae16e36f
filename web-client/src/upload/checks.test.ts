import { describe, expect, it } from "vitest";
import type { UploadLimits } from "../api/types";
import { formatLabel, sizeLabel, sniffFormat, uploadProblem } from "./checks";

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
