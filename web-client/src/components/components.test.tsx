import { cleanup, fireEvent, render, screen, within } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import type { Page, ResultFields } from "../api/types";
import { ErrorBox, ProgressBar } from "./common";
import { pageLabel, pageNumbers, PageView, shownPage } from "./PageView";
import { fromJobResult, fromPages, rawText, readableJson, ResultView, shownWarnings, type ResultLike } from "./ResultView";

afterEach(cleanup);

const page: Page = {
  page: 1, width: 200, height: 100, markdown: "", warnings: [],
  blocks: [
    { type: "title", bbox: [10, 10, 190, 30], text: "Heading", score: 0.9 },
    { type: "text", bbox: [10, 40, 190, 60], text: "<b>bold?</b> & more", score: 0.8 },
  ],
};

describe("PageView", () => {
  it("draws one box per block, coloured by type, with its text on hover", () => {
    const { container } = render(<PageView imageUrl="blob:page" layers={[{ backend: "rapidocr", page }]} />);
    const boxes = screen.getAllByTestId("box");
    expect(boxes).toHaveLength(2);
    expect(boxes[0].getAttribute("stroke")).not.toBe(boxes[1].getAttribute("stroke"));
    expect(boxes[1].querySelector("title")?.textContent).toBe("rapidocr · text: <b>bold?</b> & more");
    expect(container.querySelector("b")).toBeNull();
    expect(container.querySelector("image")?.getAttribute("href")).toBe("blob:page");
    fireEvent.click(screen.getByTestId("toggle-boxes"));
    expect(screen.queryAllByTestId("box")).toHaveLength(0);
  });

  it("puts each backend's boxes in its own colour and grid over the same page", () => {
    const other = { ...page, width: 400, height: 200 };
    render(<PageView imageUrl={null} layers={[{ backend: "a", page, color: "#111111" }, { backend: "b", page: other, color: "#222222" }]} />);
    expect(screen.getByTestId("boxes-b").getAttribute("viewBox")).toBe("0 0 400 200");
    expect(screen.getByTestId("boxes-a").querySelector("rect")?.getAttribute("stroke")).toBe("#111111");
    expect(screen.getByTestId("boxes-b").querySelector("rect")?.getAttribute("stroke")).toBe("#222222");
    fireEvent.click(screen.getByLabelText(/^b \(/));
    expect(screen.queryByTestId("boxes-b")).toBeNull();
  });
});

describe("ResultView", () => {
  it("says no text was found when a result is empty, and which page of several had none", () => {
    render(<ResultView result={fromPages("rapidocr", [{ ...page, markdown: " \n" }])} baseName="dot.png" kind="other" />);
    expect(screen.getByTestId("no-text").textContent).toBe("No text found.");
    cleanup();
    render(<ResultView result={fromPages("rapidocr", [{ ...page, markdown: "" }, { ...page, page: 2, markdown: "Two" }])} baseName="d.pdf" kind="other" />);
    expect(screen.queryByTestId("no-text")).toBeNull();
    expect(screen.getByTestId("no-text-page").textContent).toBe("No text found on page 1.");
  });

  it("renders each page as its writer meant it: a MinerU page with math, its text-layer page as text", () => {
    const pages: Page[] = [
      { ...page, markdown: "Area $x^2$" },
      { ...page, page: 2, markdown: "Paid $3.50 and $4.00", source: "text_layer" },
    ];
    render(<ResultView result={fromPages("mineru", pages)} baseName="doc.pdf" kind="mineru" />);
    const [first, second] = screen.getAllByTestId("page-text");
    expect(first.getAttribute("data-page")).toBe("1");
    expect(first.querySelector(".katex")).not.toBeNull();
    expect(second.querySelector(".katex")).toBeNull();
    expect(second.textContent).toContain("Paid $3.50 and $4.00");
  });

  it("renders model markup as text and shows the time", () => {
    const result = { ...fromPages("rapidocr", [{ ...page, markdown: "<img src=x onerror=alert(1)>" }]), processing_time: 1.234 };
    render(<ResultView result={result} baseName="scan.png" kind="other" />);
    const rendered = screen.getByTestId("rendered-markdown");
    expect(rendered.textContent).toContain("<img src=x onerror=alert(1)>");
    expect(rendered.querySelector("img")).toBeNull();
    expect(screen.getByTestId("time-rapidocr").textContent).toBe("1.23 s");
    fireEvent.click(screen.getByRole("tab", { name: "Markdown" }));
    expect(screen.getByTestId("tab-markdown").textContent).toBe("<img src=x onerror=alert(1)>");
  });

  const shown = (result: ResultLike) => {
    render(<ResultView result={result} baseName="doc.pdf" kind="other" />);
    return within(screen.getByTestId(`warnings-${result.backend}`)).getAllByRole("listitem").map((item) => item.textContent);
  };

  it("shows a finished result's document warnings, then each page's with its page number", () => {
    const pages = [{ ...page, warnings: ["blurred"] }, { ...page, page: 2, warnings: ["rotated", "cropped"] }];
    const fields: ResultFields = {
      success: true, backend: "rapidocr", model: "m", request_id: "r", image_name: "doc.pdf", document_type: "pdf", raw_result: {},
      markdown: "", source_markdown: "", boxes_image: null, processing_time: 1, timings: {}, warnings: ["text layer ignored"],
    };
    const result = fromJobResult(fields, pages);
    expect(shown(result)).toEqual(["text layer ignored", "page 1: blurred", "page 2: rotated", "page 2: cropped"]);
  });

  it("shows a running job's page warnings with their page numbers", () => {
    expect(shown(fromPages("rapidocr", [{ ...page, page: 3, warnings: ["low contrast"] }]))).toEqual(["page 3: low contrast"]);
  });

  it("shows a page warning once when the top level repeats it (older servers)", () => {
    const pages = [{ ...page, page: 2, warnings: ["rotated"] }];
    expect(shownWarnings({ warnings: ["page 2: rotated", "document", "document"], pages })).toEqual(["document", "page 2: rotated"]);
    expect(shownWarnings({ warnings: [], pages: [page] })).toEqual([]);
  });

  it("joins pages with the service's separator", () => {
    expect(fromPages("x", [{ ...page, markdown: "a" }, { ...page, page: 2, markdown: "b" }]).markdown).toBe("a\n\n---\n\nb");
  });

  it("shows a model's own text as its raw output, and shortens data URIs in JSON", () => {
    expect(rawText({ deepseek: { pages: [{ text: "<|ref|>title" }, { text: "two" }] } })).toBe("<|ref|>title\n\n---\n\ntwo");
    expect(readableJson({ image: `data:image/png;base64,${"A".repeat(500)}` })).toMatch(/… \(522 characters\)/);
  });
});

describe("ErrorBox and ProgressBar", () => {
  it("names the backend and what happened", () => {
    render(<ErrorBox error={{ backend: "mineru", code: "backend_unavailable", message: "not reachable" }} />);
    expect(screen.getByRole("alert").textContent).toBe("minerubackend_unavailablenot reachable");
  });

  it("shows pages done of total", () => {
    render(<ProgressBar backend="rapidocr" progress={{ done: 3, total: 4 }} />);
    expect(screen.getByRole("progressbar").getAttribute("aria-valuenow")).toBe("75");
    expect(screen.getByTestId("progress-rapidocr").textContent).toContain("3 / 4 pages (75%)");
  });
});

describe("PageView marks", () => {
  it("dashes the blocks a word diff marks", () => {
    render(<PageView imageUrl={null} layers={[{ backend: "a", page, color: "#111111", marked: new Set([1]) }]} />);
    const boxes = screen.getAllByTestId("box");
    expect(boxes[0].getAttribute("data-marked")).toBeNull();
    expect(boxes[1].getAttribute("data-marked")).toBe("true");
    expect(boxes[1].getAttribute("class")).toContain("box-marked");
  });
});

describe("page numbers", () => {
  it("are the pages' own numbers, in order, once", () => {
    expect(pageNumbers([[{ page: 3 }, { page: 2 }], [{ page: 2 }]])).toEqual([2, 3]);
    expect(shownPage([2, 3], null)).toBe(2);
    expect(shownPage([2, 3], 3)).toBe(3);
    expect(shownPage([2, 3], 5)).toBe(2);
    expect(shownPage([], null)).toBeNull();
  });

  it("are labelled as a whole document or as the part asked for", () => {
    expect(pageLabel([1, 2, 3], 2)).toBe("page 2 of 3");
    expect(pageLabel([2, 3], 3)).toBe("page 3 (pages 2–3)");
    expect(pageLabel([1, 4, 7], 4)).toBe("page 4 (pages 1, 4, 7)");
  });
});
