/** The first-run sample: a small receipt drawn in the browser (a canvas, no file shipped and no
 * third-party content), with amounts, a percentage and a heading, so a first run shows what the
 * service reads and how the page shows it. */

export const SAMPLE_NAME = "sample-receipt.png";

export const SAMPLE_LINES = [
  "Corner Cafe",
  "Flat white          $3.80",
  "Almond croissant    $4.20",
  "Tax 8.5%            $0.68",
  "Total               $8.68",
  "Thank you!",
];

/** The sample as a PNG file, or null where the browser cannot draw (no canvas). */
export async function sampleFile(): Promise<File | null> {
  const canvas = document.createElement("canvas");
  const context = canvas.getContext?.("2d");
  if (!context) return null;
  const size = 44;
  canvas.width = 1000;
  canvas.height = Math.round(size * 1.9 * SAMPLE_LINES.length + 2 * size);
  context.fillStyle = "white";
  context.fillRect(0, 0, canvas.width, canvas.height);
  context.fillStyle = "black";
  context.textBaseline = "top";
  SAMPLE_LINES.forEach((line, row) => {
    context.font = `${row === 0 ? "bold " : ""}${row === 0 ? size * 1.3 : size}px sans-serif`;
    context.fillText(line.replace(/ {2,}/g, "  "), size, size + row * size * 1.9);
  });
  const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, "image/png"));
  return blob ? new File([blob], SAMPLE_NAME, { type: "image/png" }) : null;
}
