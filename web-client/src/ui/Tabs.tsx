/** A tab list that moves with the arrow keys (←/→, Home/End), as the ARIA tabs pattern has it: only
 * the selected tab is in the Tab order; the panel is labelled by its tab. */
import { useRef, type KeyboardEvent } from "react";

export function nextTabIndex(key: string, index: number, count: number): number | null {
  switch (key) {
    case "ArrowRight": return (index + 1) % count;
    case "ArrowLeft": return (index - 1 + count) % count;
    case "Home": return 0;
    case "End": return count - 1;
    default: return null;
  }
}

interface Props<K extends string> {
  tabs: readonly (readonly [K, string])[];
  selected: K;
  onSelect: (key: K) => void;
  /** Prefix of the tab and panel ids, unique on the page. */
  idPrefix: string;
}

export function Tabs<K extends string>({ tabs, selected, onSelect, idPrefix }: Props<K>) {
  const buttons = useRef<(HTMLButtonElement | null)[]>([]);
  const onKeyDown = (event: KeyboardEvent, index: number) => {
    const next = nextTabIndex(event.key, index, tabs.length);
    if (next == null) return;
    event.preventDefault();
    onSelect(tabs[next][0]);
    buttons.current[next]?.focus();
  };
  return (
    <div className="tabs" role="tablist">
      {tabs.map(([key, label], index) => (
        <button key={key} type="button" role="tab" id={`${idPrefix}-tab-${key}`} aria-controls={`${idPrefix}-panel`}
          aria-selected={selected === key} tabIndex={selected === key ? 0 : -1} className={selected === key ? "active" : ""}
          ref={(el) => { buttons.current[index] = el; }} onClick={() => onSelect(key)} onKeyDown={(e) => onKeyDown(e, index)}>
          {label}
        </button>
      ))}
    </div>
  );
}
