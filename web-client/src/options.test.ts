import { afterEach, describe, expect, it } from "vitest";
import { cleanup, fireEvent, render, screen, within } from "@testing-library/react";
import { createElement } from "react";
import {
  backendKind, controlOf, DEFAULT_OPTIONS, mergedField, optionFields, optionGroups, publishedFields, shownValue, type OcrOptions,
} from "./options";
import { OptionsPanel } from "./components/OptionsPanel";
import type { BackendStatus, OptionField } from "./api/types";

const status = (name: string, own?: string, options?: OptionField[] | null): BackendStatus =>
  ({ name, url: "", status: "healthy", model: null, reason: null, checked_at: null, health: own ? { backend: own } : null, options });

const MODE: OptionField = { name: "mode", type: "string", description: "What to read.", enum: ["document", "ocr", "locate"], default: "document" };
const PROMPT: OptionField = { name: "prompt", type: "string", description: "Your own instruction." };
const PHRASE: OptionField = { name: "phrase", type: "string", description: "With locate: the text to find." };
const CAP: OptionField = { name: "max_tokens", type: "integer", description: "Token cap.", default: 8192, minimum: 16, maximum: 8192 };
const TIER: OptionField = { name: "tier", type: "string", description: "Pipeline.", enum: ["flash", "basic"] };
const FLAG: OptionField = { name: "figures", type: "boolean", description: "Crop figures.", default: false };
const deepseek = status("deepseek-ocr", "deepseek-ocr", [MODE, PROMPT, PHRASE, CAP]);
const mineru = status("mineru", "mineru", [TIER, FLAG]);
const rapid = status("rapidocr", "rapidocr", []);
const withValues = (values: Record<string, string>, more: Partial<OcrOptions> = {}): OcrOptions => ({ ...DEFAULT_OPTIONS, values, ...more });

describe("options", () => {
  it("knows a backend by its own name in its health", () => {
    expect(backendKind(status("ds2", "deepseek-ocr"))).toBe("deepseek-ocr");
    expect(backendKind(status("mineru"))).toBe("mineru");
    expect(backendKind(status("rapidocr", "rapidocr"))).toBe("other");
  });

  it("gives each option the control its schema asks for", () => {
    expect([MODE, PROMPT, PHRASE, CAP, FLAG].map(controlOf)).toEqual(["select", "textarea", "text", "number", "checkbox"]);
  });

  it("shows the default until the user sets a value", () => {
    expect(shownValue(MODE, {})).toBe("document");
    expect(shownValue(TIER, {})).toBe("");
    expect(shownValue(MODE, { mode: "ocr" })).toBe("ocr");
  });

  it("keeps a value set for another backend's choices out of this one's", () => {
    const values = { mode: "table" };
    expect(shownValue(MODE, values)).toBe("document");
    expect(optionFields(withValues(values), [deepseek], false)).toEqual({});
  });

  it("sends only what the user set and differs from the default", () => {
    expect(optionFields(withValues({ mode: "document", max_tokens: "8192", figures: "false" }), [deepseek, mineru], false)).toEqual({});
    expect(optionFields(withValues({ mode: "locate", phrase: "Total", max_tokens: " 512 " }), [deepseek], false))
      .toEqual({ mode: "locate", phrase: "Total", max_tokens: "512" });
    expect(optionFields(withValues({ figures: "true", tier: "flash", prompt: "   " }), [mineru], false)).toEqual({ figures: "true", tier: "flash" });
  });

  it("sends a custom prompt instead of the mode to a backend that takes both", () => {
    expect(optionFields(withValues({ mode: "ocr", prompt: "<image>\nRead it." }), [deepseek], false)).toEqual({ prompt: "<image>\nRead it." });
  });

  it("sends a backend only options some chosen backend publishes, and PDF fields only for PDFs", () => {
    const options = withValues({ tier: "flash", mode: "ocr" }, { page_range: " 1-2 " });
    expect(optionFields(options, [rapid], false)).toEqual({});
    expect(optionFields(options, [status("new", undefined, null)], false)).toEqual({}); // schema not known yet
    expect(optionFields(options, [mineru], true)).toEqual({ tier: "flash", page_range: "1-2", pdf_mode: "ocr" });
    expect(optionFields(options, [mineru, deepseek], false)).toEqual({ tier: "flash", mode: "ocr" });
  });

  it("offers an option several backends publish once, with what all of them take", () => {
    const dots = status("dots", "vlm", [{ ...MODE, enum: ["layout", "ocr"], default: "layout" }, { ...CAP, default: 4096, minimum: 32, maximum: 4096 }]);
    const groups = optionGroups([deepseek, dots]);
    expect(groups.map((g) => [g.backends, g.fields.map((f) => f.name)])).toEqual([
      [["deepseek-ocr", "dots"], ["mode", "max_tokens"]],
      [["deepseek-ocr"], ["prompt", "phrase"]],
    ]);
    const [mode, cap] = groups[0].fields;
    expect([mode.enum, mode.default]).toEqual([["ocr"], undefined]); // the defaults differ: none preselected
    expect([cap.minimum, cap.maximum, cap.default]).toEqual([32, 4096, undefined]);
    expect(mergedField([MODE])).toBe(MODE);
    expect(publishedFields([deepseek, dots]).map((f) => f.name)).toEqual(["mode", "max_tokens", "prompt", "phrase"]);
  });
});

describe("OptionsPanel", () => {
  afterEach(cleanup);
  const show = (backends: BackendStatus[], options: OcrOptions = DEFAULT_OPTIONS, onChange = (_: OcrOptions) => {}) =>
    render(createElement(OptionsPanel, { options, onChange, backends, isPdf: false }));

  it("renders each backend's published options: its modes, the default preselected, the description as help", () => {
    show([deepseek, mineru, rapid]);
    const mode = within(screen.getByTestId("options-deepseek-ocr")).getByTestId("opt-mode") as HTMLSelectElement;
    expect([...mode.options].map((o) => o.value)).toEqual(["document", "ocr", "locate"]);
    expect(mode.value).toBe("document");
    expect(screen.getByText("What to read.")).toBeTruthy();
    const cap = screen.getByTestId("opt-max_tokens") as HTMLInputElement;
    expect([cap.type, cap.value, cap.min, cap.max]).toEqual(["number", "8192", "16", "8192"]);
    expect(screen.getByTestId("opt-prompt").tagName).toBe("TEXTAREA");
    const tier = screen.getByTestId("opt-tier") as HTMLSelectElement;
    expect([...tier.options].map((o) => o.value)).toEqual(["", "flash", "basic"]); // no default published
    expect((screen.getByTestId("opt-figures") as HTMLInputElement).checked).toBe(false);
    expect(screen.queryByTestId("options-rapidocr")).toBeNull(); // nothing of its own to set
  });

  it("records what the user sets, and disables the mode while a custom prompt replaces it", () => {
    const changes: OcrOptions[] = [];
    const { unmount } = show([deepseek], DEFAULT_OPTIONS, (next) => changes.push(next));
    fireEvent.change(screen.getByTestId("opt-mode"), { target: { value: "locate" } });
    expect(changes.at(-1)?.values).toEqual({ mode: "locate" });
    unmount();
    show([deepseek], withValues({ prompt: "Read it." }));
    expect((screen.getByTestId("opt-mode") as HTMLSelectElement).disabled).toBe(true);
  });
});
