/** Light or dark: the system's choice (prefers-color-scheme) until the toggle says otherwise; the
 * toggle's choice is kept in localStorage. The CSS reads ``data-theme`` on <html> (styles.css). */
export type Theme = "light" | "dark";

export const THEME_KEY = "ocr-service.theme";

export function storedTheme(storage: Pick<Storage, "getItem"> = localStorage): Theme | null {
  try {
    const value = storage.getItem(THEME_KEY);
    return value === "light" || value === "dark" ? value : null;
  } catch {
    return null;
  }
}

export function systemTheme(): Theme {
  return typeof matchMedia === "function" && matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

/** The theme in effect: the toggle's choice, else the system's. */
export function currentTheme(storage?: Pick<Storage, "getItem">): Theme {
  return storedTheme(storage) ?? systemTheme();
}

export function chooseTheme(theme: Theme, storage: Pick<Storage, "setItem"> = localStorage): void {
  try {
    storage.setItem(THEME_KEY, theme);
  } catch {
    // storage refused (private mode): the choice lasts for this page only
  }
  applyTheme(theme);
}

/** ``null``: follow the system. */
export function applyTheme(theme: Theme | null, root: HTMLElement = document.documentElement): void {
  if (theme) root.dataset.theme = theme;
  else delete root.dataset.theme;
}
