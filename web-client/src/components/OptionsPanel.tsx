import type { BackendStatus, OptionField } from "../api/types";
import { controlOf, optionGroups, promptReplacesMode, shownValue, type OcrOptions } from "../options";

interface Props {
  options: OcrOptions;
  onChange: (options: OcrOptions) => void;
  /** The backends chosen: each gets the options it publishes (none while they are not known). */
  backends: BackendStatus[];
  isPdf: boolean;
}

interface FieldProps {
  field: OptionField;
  value: string;
  disabled: boolean;
  onValue: (value: string) => void;
}

/** One published option as its control, the default preselected and the description as help text. */
function OptionControl({ field, value, disabled, onValue }: FieldProps) {
  const testId = `opt-${field.name}`;
  const control = controlOf(field);
  const help = <small className="help">{field.description}</small>;
  if (control === "checkbox") {
    return (
      <label>
        <input type="checkbox" checked={value === "true"} data-testid={testId} disabled={disabled}
          onChange={(e) => onValue(String(e.target.checked))} /> {field.name} {help}
      </label>
    );
  }
  let input;
  if (control === "select") {
    input = (
      <select value={value} data-testid={testId} disabled={disabled} onChange={(e) => onValue(e.target.value)}>
        {field.default === undefined ? <option value="">server default</option> : null}
        {(field.enum ?? []).map((choice) => (
          <option key={choice} value={choice}>{choice}{choice === field.default ? " (default)" : ""}</option>
        ))}
      </select>
    );
  } else if (control === "number") {
    input = <input type="number" value={value} min={field.minimum} max={field.maximum} step={1} data-testid={testId}
      disabled={disabled} onChange={(e) => onValue(e.target.value)} />;
  } else if (control === "textarea") {
    input = <textarea rows={2} value={value} data-testid={testId} disabled={disabled} onChange={(e) => onValue(e.target.value)} />;
  } else {
    input = <input value={value} data-testid={testId} disabled={disabled} onChange={(e) => onValue(e.target.value)} />;
  }
  return <label>{field.name} {input} {help}</label>;
}

/** The options of the backends chosen, rendered from what they publish: one control per option, in a
 * group named after the backends that take it (and PDF options for PDFs). */
export function OptionsPanel({ options, onChange, backends, isPdf }: Props) {
  const set = (patch: Partial<OcrOptions>) => onChange({ ...options, ...patch });
  const setValue = (name: string, value: string) => set({ values: { ...options.values, [name]: value } });
  const modeReplaced = promptReplacesMode(backends, options.values);
  return (
    <div className="options" data-testid="options">
      {optionGroups(backends).map((group) => (
        <fieldset key={group.backends.join("+")} data-testid={`options-${group.backends.join("+")}`}>
          <legend>{group.backends.join(", ")}</legend>
          {group.fields.map((field) => (
            <OptionControl key={field.name} field={field} value={shownValue(field, options.values)}
              disabled={field.name === "mode" && modeReplaced} onValue={(value) => setValue(field.name, value)} />
          ))}
        </fieldset>
      ))}
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
