import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { FIRST_RUN_KEY, FirstRun } from "./FirstRun";

afterEach(() => {
  cleanup();
  localStorage.clear();
});

describe("FirstRun", () => {
  it("explains the page until it is closed, and stays closed", () => {
    render(<FirstRun hidden={false} onSample={() => undefined} />);
    expect(screen.getByTestId("first-run").textContent).toContain("Drop an image or a PDF");
    fireEvent.click(screen.getByTestId("first-run-close"));
    expect(screen.queryByTestId("first-run")).toBeNull();
    expect(localStorage.getItem(FIRST_RUN_KEY)).toBe("1");
    cleanup();
    render(<FirstRun hidden={false} onSample={() => undefined} />);
    expect(screen.queryByTestId("first-run")).toBeNull();
  });

  it("offers the sample, and hides once a file is chosen", () => {
    const onSample = vi.fn();
    const { rerender } = render(<FirstRun hidden={false} onSample={onSample} />);
    fireEvent.click(screen.getByTestId("try-sample"));
    expect(onSample).toHaveBeenCalledOnce();
    rerender(<FirstRun hidden onSample={onSample} />);
    expect(screen.queryByTestId("first-run")).toBeNull();
  });
});
