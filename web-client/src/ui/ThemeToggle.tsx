import { useEffect, useState } from "react";
import { applyTheme, chooseTheme, currentTheme, storedTheme, type Theme } from "./theme";

/** A button that switches light ↔ dark; until it is pressed the page follows the system. */
export function ThemeToggle() {
  const [theme, setTheme] = useState<Theme>(() => currentTheme());
  useEffect(() => {
    applyTheme(storedTheme());
    if (typeof matchMedia !== "function") return;
    const query = matchMedia("(prefers-color-scheme: dark)");
    const follow = () => { if (!storedTheme()) setTheme(query.matches ? "dark" : "light"); };
    query.addEventListener?.("change", follow);
    return () => query.removeEventListener?.("change", follow);
  }, []);
  const dark = theme === "dark";
  return (
    <button type="button" className="theme-toggle" aria-pressed={dark} data-testid="theme-toggle"
      onClick={() => { const next: Theme = dark ? "light" : "dark"; chooseTheme(next); setTheme(next); }}>
      {dark ? "☀ Light" : "☾ Dark"}
    </button>
  );
}
