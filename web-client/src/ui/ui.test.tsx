import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { useState } from "react";
import { afterEach, describe, expect, it } from "vitest";
import { announcement, documentTitle, runState } from "./run_state";
import { nextTabIndex, Tabs } from "./Tabs";
import { applyTheme, chooseTheme, storedTheme, THEME_KEY } from "./theme";
import { ThemeToggle } from "./ThemeToggle";

afterEach(() => {
  cleanup();
  localStorage.clear();
  delete document.documentElement.dataset.theme;
});

const facts = { hasFile: true, running: false, failed: false, done: false, stopped: false };

describe("run state, title and announcement", () => {
  it("says one state, running first, then failure, result, stop", () => {
    expect(runState({ ...facts, hasFile: false, running: true })).toBe("empty");
    expect(runState(facts)).toBe("ready");
    expect(runState({ ...facts, running: true, failed: true })).toBe("running");
    expect(runState({ ...facts, failed: true, done: true })).toBe("failed");
    expect(runState({ ...facts, done: true })).toBe("done");
    expect(runState({ ...facts, stopped: true })).toBe("stopped");
  });

  it("puts the file and the state in the title", () => {
    expect(documentTitle(null, "empty")).toBe("OCR service");
    expect(documentTitle("receipt.png", "running")).toBe("receipt.png · running… — OCR service");
    expect(documentTitle("receipt.png", "done")).toBe("receipt.png · done — OCR service");
    expect(documentTitle("receipt.png", "failed")).toBe("receipt.png · error — OCR service");
  });

  it("announces results and errors, not the idle states", () => {
    expect(announcement("ready", ["rapidocr"])).toBe("");
    expect(announcement("done", ["rapidocr"], "1 page")).toBe("Result from rapidocr ready: 1 page.");
    expect(announcement("failed", ["a", "b"], "x")).toBe("a, b failed: x.");
  });
});

describe("tabs", () => {
  it("move with the arrow keys, wrapping, and Home/End", () => {
    expect(nextTabIndex("ArrowRight", 3, 4)).toBe(0);
    expect(nextTabIndex("ArrowLeft", 0, 4)).toBe(3);
    expect(nextTabIndex("End", 0, 4)).toBe(3);
    expect(nextTabIndex("Home", 2, 4)).toBe(0);
    expect(nextTabIndex("a", 2, 4)).toBeNull();
  });

  it("select and focus the next tab; only the selected one is in the Tab order", () => {
    function Host() {
      const [tab, setTab] = useState<"a" | "b" | "c">("a");
      return <Tabs tabs={[["a", "A"], ["b", "B"], ["c", "C"]] as const} selected={tab} onSelect={setTab} idPrefix="t" />;
    }
    render(<Host />);
    const first = screen.getByRole("tab", { name: "A" });
    expect(first.tabIndex).toBe(0);
    expect(screen.getByRole("tab", { name: "B" }).tabIndex).toBe(-1);
    fireEvent.keyDown(first, { key: "ArrowLeft" });
    const last = screen.getByRole("tab", { name: "C" });
    expect(last.getAttribute("aria-selected")).toBe("true");
    expect(document.activeElement).toBe(last);
  });
});

describe("theme", () => {
  it("keeps the toggle's choice and sets it on <html>", () => {
    expect(storedTheme()).toBeNull();
    chooseTheme("dark");
    expect(localStorage.getItem(THEME_KEY)).toBe("dark");
    expect(document.documentElement.dataset.theme).toBe("dark");
    applyTheme(null);
    expect(document.documentElement.dataset.theme).toBeUndefined();
  });

  it("ignores what it did not write", () => {
    localStorage.setItem(THEME_KEY, "purple");
    expect(storedTheme()).toBeNull();
  });

  it("the toggle switches and says which is on", () => {
    render(<ThemeToggle />);
    const button = screen.getByTestId("theme-toggle");
    const before = button.getAttribute("aria-pressed");
    fireEvent.click(button);
    expect(button.getAttribute("aria-pressed")).not.toBe(before);
    expect(document.documentElement.dataset.theme).toBe(before === "true" ? "light" : "dark");
  });
});
