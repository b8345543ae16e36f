/** What the page is for, shown until a file is chosen or it is closed (remembered): three steps and a
 * sample receipt to try them on. */
import { useState } from "react";

export const FIRST_RUN_KEY = "ocr-service.first-run-done";

function seen(): boolean {
  try {
    return localStorage.getItem(FIRST_RUN_KEY) === "1";
  } catch {
    return false;
  }
}

function remember(): void {
  try {
    localStorage.setItem(FIRST_RUN_KEY, "1");
  } catch {
    // storage refused: shown again next time
  }
}

export function FirstRun({ hidden, onSample }: { hidden: boolean; onSample: () => void }) {
  const [closed, setClosed] = useState(seen);
  if (hidden || closed) return null;
  const close = () => { remember(); setClosed(true); };
  return (
    <section className="first-run" data-testid="first-run" aria-label="getting started">
      <h2>Read the text of a scan, a photo or a PDF</h2>
      <ol>
        <li>Drop an image or a PDF below (or choose one, or paste it).</li>
        <li>Pick a backend: each reads pages its own way; the first one ready is chosen for you.</li>
        <li>Run: the text comes back as written, beside the page with a box around each block.
          <strong> Compare</strong> runs several backends on the same page.</li>
      </ol>
      <div className="actions">
        <button type="button" className="primary" onClick={() => { remember(); onSample(); }} data-testid="try-sample">
          Try a sample receipt
        </button>
        <button type="button" onClick={close} data-testid="first-run-close">Close</button>
      </div>
    </section>
  );
}
