import { DEEPSEEK_MODES, MINERU_OCR_MODES, MINERU_TIERS, type BackendKind, type OcrOptions } from "../options";

interface Props {
  options: OcrOptions;
  onChange: (options: OcrOptions) => void;
  kinds: BackendKind[];
  isPdf: boolean;
}

/** The options that apply to the backends chosen (and to PDFs). */
export function OptionsPanel({ options, onChange, kinds, isPdf }: Props) {
  const set = (patch: Partial<OcrOptions>) => onChange({ ...options, ...patch });
  return (
    <div className="options" data-testid="options">
      {kinds.includes("deepseek-ocr") ? (
        <fieldset>
          <legend>DeepSeek-OCR</legend>
          <label>Mode{" "}
            <select value={options.mode} data-testid="opt-mode" onChange={(e) => set({ mode: e.target.value })} disabled={!!options.prompt.trim()}>
              <option value="">default (document)</option>
              {DEEPSEEK_MODES.map((mode) => <option key={mode} value={mode}>{mode}</option>)}
            </select>
          </label>
          {options.mode === "locate" ? (
            <label>Phrase <input value={options.phrase} data-testid="opt-phrase" onChange={(e) => set({ phrase: e.target.value })} /></label>
          ) : null}
          <label>Custom prompt (replaces the mode)
            <textarea rows={2} value={options.prompt} data-testid="opt-prompt" onChange={(e) => set({ prompt: e.target.value })} />
          </label>
        </fieldset>
      ) : null}
      {kinds.includes("mineru") ? (
        <fieldset>
          <legend>MinerU</legend>
          <label>Tier{" "}
            <select value={options.tier} data-testid="opt-tier" onChange={(e) => set({ tier: e.target.value })}>
              <option value="">server default</option>
              {MINERU_TIERS.map((tier) => <option key={tier} value={tier}>{tier}</option>)}
            </select>
          </label>
          <label>OCR mode{" "}
            <select value={options.ocr_mode} data-testid="opt-ocr-mode" onChange={(e) => set({ ocr_mode: e.target.value })}>
              <option value="">server default</option>
              {MINERU_OCR_MODES.map((mode) => <option key={mode} value={mode}>{mode}</option>)}
            </select>
          </label>
        </fieldset>
      ) : null}
      {isPdf ? (
        <fieldset>
          <legend>PDF</legend>
          <label>Pages <input placeholder="all, or e.g. 1-3,7" value={options.page_range} data-testid="page-range"
            onChange={(e) => set({ page_range: e.target.value })} /></label>
          <label>Text layer{" "}
            <select value={options.pdf_mode} data-testid="opt-pdf-mode" onChange={(e) => set({ pdf_mode: e.target.value as OcrOptions["pdf_mode"] })}>
              <option value="ocr">OCR every page</option>
              <option value="auto">read it where the page has one</option>
            </select>
          </label>
        </fieldset>
      ) : null}
    </div>
  );
}
