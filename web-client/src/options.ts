/** Per-backend options, from what each backend publishes (`GET /backends`: `options`, issue #21):
 * which control each option gets, what it shows before the user touches it, and the form fields
 * that are sent. No backend's options are known here: a new backend (or preset) brings its own. */
import type { BackendStatus, OptionField } from "./api/types";

export interface OcrOptions {
  /** The backends' own options the user set, by name (one value per name: a comparison sends one
   * set of options, and the orchestrator gives each backend the ones it publishes). */
  values: Record<string, string>;
  page_range: string;
  pdf_mode: "ocr" | "auto";
}

export const DEFAULT_OPTIONS: OcrOptions = { values: {}, page_range: "", pdf_mode: "ocr" };

export type BackendKind = "deepseek-ocr" | "mineru" | "other";

/** The backend's own name from its health (a deployment may register it under another name): it
 * tells how its markdown is written (ResultView), not which options it takes. */
export function backendKind(status: BackendStatus | undefined): BackendKind {
  const own = status?.health && typeof status.health.backend === "string" ? status.health.backend : status?.name;
  if (own === "deepseek-ocr") return "deepseek-ocr";
  if (own === "mineru") return "mineru";
  return "other";
}

export type Control = "select" | "checkbox" | "number" | "textarea" | "text";

/** The control an option gets: choices → a select, boolean → a checkbox, integer → a number input,
 * `prompt` → a textarea, any other string → a text input. */
export function controlOf(field: OptionField): Control {
  if (field.enum?.length) return "select";
  if (field.type === "boolean") return "checkbox";
  if (field.type === "integer") return "number";
  return field.name === "prompt" ? "textarea" : "text";
}

/** The published default as a form writes it ("" when there is none). */
export function defaultText(field: OptionField): string {
  return field.default === undefined ? "" : String(field.default);
}

/** The user's value for this option, unless it is not one of its choices (set for another backend). */
function userValue(field: OptionField, values: Record<string, string>): string | undefined {
  const value = values[field.name];
  return value !== undefined && field.enum && !field.enum.includes(value.trim()) ? undefined : value;
}

/** What the control shows: the user's value, else the default (preselected). */
export function shownValue(field: OptionField, values: Record<string, string>): string {
  return userValue(field, values) ?? defaultText(field);
}

/** The value sent for one option, or null: only a value the user set that is not empty and differs
 * from the published default is sent (the backend's own default then applies, and a request does not
 * pin a default the backend may change). */
export function sentValue(field: OptionField, values: Record<string, string>): string | null {
  const value = userValue(field, values);
  if (value === undefined || !value.trim()) return null;
  const control = controlOf(field);
  const sent = control === "text" || control === "textarea" ? value : value.trim(); // a prompt's spaces are its own
  return sent === defaultText(field) ? null : sent;
}

/** One option several backends publish, as one control can offer it to all of them: the choices
 * and bounds every one of them takes, and the default only when they agree on it. */
export function mergedField(fields: OptionField[]): OptionField {
  const [first, ...rest] = fields;
  if (!rest.length) return first;
  const merged: OptionField = { ...first };
  if (fields.some((f) => f.enum)) merged.enum = (first.enum ?? []).filter((c) => rest.every((f) => f.enum?.includes(c)));
  const defaults = new Set(fields.map((f) => f.default));
  if (defaults.size > 1 || (merged.enum && !merged.enum.includes(String(first.default)))) delete merged.default;
  const lows = fields.flatMap((f) => (f.minimum === undefined ? [] : [f.minimum]));
  const highs = fields.flatMap((f) => (f.maximum === undefined ? [] : [f.maximum]));
  if (lows.length) merged.minimum = Math.max(...lows);
  if (highs.length) merged.maximum = Math.min(...highs);
  return merged;
}

/** A set of controls in the panel: the options that exactly these backends publish. */
export interface OptionGroup {
  backends: string[];
  fields: OptionField[];
}

/** The options the backends chosen publish, each once (a request carries one value per option, and
 * the orchestrator gives each backend the ones it publishes), grouped by the backends that take them,
 * in the order the backends and their options come. */
export function optionGroups(backends: BackendStatus[]): OptionGroup[] {
  const byName = new Map<string, { fields: OptionField[]; backends: string[] }>();
  for (const backend of backends) {
    for (const field of backend.options ?? []) {
      const entry = byName.get(field.name) ?? { fields: [], backends: [] };
      entry.fields.push(field);
      entry.backends.push(backend.name);
      byName.set(field.name, entry);
    }
  }
  const groups = new Map<string, OptionGroup>();
  for (const entry of byName.values()) {
    const key = entry.backends.join("\n");
    const group = groups.get(key) ?? { backends: entry.backends, fields: [] };
    group.fields.push(mergedField(entry.fields));
    groups.set(key, group);
  }
  return [...groups.values()];
}

/** Every option the backends chosen publish, once. */
export function publishedFields(backends: BackendStatus[]): OptionField[] {
  return optionGroups(backends).flatMap((group) => group.fields);
}

/** Whether a custom prompt replaces the mode: a backend that publishes both takes one or the other. */
export function promptReplacesMode(backends: BackendStatus[], values: Record<string, string>): boolean {
  const both = backends.some((b) => b.options?.some((f) => f.name === "prompt") && b.options?.some((f) => f.name === "mode"));
  return both && !!values.prompt?.trim();
}

/** Form fields for the backends chosen: each option one of them publishes, when the user set it to
 * something other than its default; PDF fields only for PDFs. */
export function optionFields(options: OcrOptions, backends: BackendStatus[], isPdf: boolean): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const field of publishedFields(backends)) {
    const value = sentValue(field, options.values);
    if (value !== null) fields[field.name] = value;
  }
  if (promptReplacesMode(backends, options.values)) delete fields.mode;
  if (isPdf) {
    if (options.page_range.trim()) fields.page_range = options.page_range.trim();
    fields.pdf_mode = options.pdf_mode;
  }
  return fields;
}

export const SELECTABLE = "healthy";

export function isSelectable(status: BackendStatus): boolean {
  return status.status === SELECTABLE;
}
