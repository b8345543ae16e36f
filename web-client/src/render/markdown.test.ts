import { describe, expect, it } from "vitest";
import { escapeUnlistedHtml } from "./html_filter";
import { renderMarkdown } from "./markdown";
import { sanitizeHtml } from "./sanitize";
import { pageWriter, type Writer } from "./writer";

const PNG = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

function dom(html: string): HTMLElement {
  const div = document.createElement("div");
  div.innerHTML = html; // test only: inspect what the page would get
  return div;
}

const WRITERS: Writer[] = ["text", "mineru", "deepseek-ocr"];

describe("renderMarkdown", () => {
  it("renders headings, lists and emphasis", () => {
    const root = dom(renderMarkdown("# Title\n\n- one\n- **two**", "mineru"));
    expect(root.querySelector("h1")?.textContent).toBe("Title");
    expect(root.querySelectorAll("li")).toHaveLength(2);
    expect(root.querySelector("strong")?.textContent).toBe("two");
  });

  it("keeps the HTML tables document models write", () => {
    const root = dom(renderMarkdown('<table><tr><td colspan="2">a &amp; b</td></tr><tr><td>1</td><td>2</td></tr></table>', "mineru"));
    expect(root.querySelectorAll("table td")).toHaveLength(3);
    expect(root.querySelector("td")?.getAttribute("colspan")).toBe("2");
    expect(root.querySelector("td")?.textContent).toBe("a & b");
  });

  it("renders markdown pipe tables", () => {
    const root = dom(renderMarkdown("| a | b |\n|---|---|\n| 1 | 2 |", "mineru"));
    expect(root.querySelectorAll("th")).toHaveLength(2);
  });

  it("renders math in each model's own delimiters", () => {
    const cases: [Writer, string][] = [
      ["mineru", "$x^2$"], ["mineru", "\n\n$$\\frac{a}{b}$$\n\n"],
      ["deepseek-ocr", "\\(x^2\\)"], ["deepseek-ocr", "\n\n\\[\\frac{a}{b}\\]\n\n"],
    ];
    for (const [writer, source] of cases) {
      const root = dom(renderMarkdown(`Before ${source} after`, writer));
      expect(root.querySelector(".katex"), source).not.toBeNull();
    }
  });

  it("embeds figure crops given as raster data URIs", () => {
    const root = dom(renderMarkdown(`![figure](${PNG})`, "mineru"));
    expect(root.querySelector("img")?.getAttribute("src")).toBe(PNG);
  });

  it.each(WRITERS)("shows scanned HTML as text, not as elements (%s)", (writer) => {
    const root = dom(renderMarkdown("<img src=x onerror=alert(1)>", writer));
    expect(root.querySelector("img")).toBeNull();
    expect(root.textContent).toContain("<img src=x onerror=alert(1)>");
    const inline = dom(renderMarkdown("Total <script>alert(1)</script> due", writer));
    expect(inline.querySelector("script")).toBeNull();
    expect(inline.textContent).toContain("<script>alert(1)</script>");
  });

  it("keeps text with stray angle brackets", () => {
    expect(dom(renderMarkdown("a < b and c > d", "mineru")).textContent).toContain("a < b and c > d");
  });

  it("never lets an event handler or a script URL through, even inside kept tags", () => {
    const html = renderMarkdown('<table><tr><td onclick="alert(1)" style="x">c</td></tr></table>\n\n[x](javascript:alert(1))\n\n![a](javascript:alert(1))', "mineru");
    const root = dom(html);
    expect(root.querySelector("[onclick], [style]")).toBeNull();
    expect(root.querySelector("a[href], img[src]")).toBeNull();
    expect(root.querySelector("td")?.textContent).toBe("c");
  });

  it("drops remote and SVG images", () => {
    const root = dom(renderMarkdown("![a](http://example.com/a.png) ![b](data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=)", "mineru"));
    for (const img of root.querySelectorAll("img")) expect(img.getAttribute("src")).toBeNull();
  });

  it("opens links in a new tab without an opener", () => {
    const link = dom(renderMarkdown("[docs](https://example.com)", "mineru")).querySelector("a");
    expect(link?.getAttribute("rel")).toBe("noopener noreferrer");
  });
});

describe("text as written (line-OCR engines, text layers)", () => {
  const RECEIPT = "Coffee $3.50\nBagel $2.25 (-10%)\nTax 8.5% $0.49\nTotal $6.24";

  it("keeps dollars and percentages as text: no math", () => {
    const root = dom(renderMarkdown(RECEIPT, "text"));
    expect(root.querySelector(".katex, math")).toBeNull();
    for (const part of ["$3.50", "$2.25 (-10%)", "Tax 8.5% $0.49", "Total $6.24"]) expect(root.textContent).toContain(part);
    expect(dom(renderMarkdown("\\(x\\) and \\[y\\] and $$z$$", "text")).querySelector(".katex")).toBeNull();
  });

  it("keeps each OCR'd line on its own line (hard breaks within a block)", () => {
    const root = dom(renderMarkdown(RECEIPT, "text"));
    expect(root.querySelectorAll("p")).toHaveLength(1);
    expect(root.querySelectorAll("p br")).toHaveLength(3);
  });

  it("shows markup, entities, emphasis and link syntax as the characters on the page", () => {
    const source = "Price <b>$5</b> <i>now</i>\nAT&amp;T *not emphasis* _nor this_ `code` [a](https://x.test)";
    const root = dom(renderMarkdown(source, "text"));
    expect(root.querySelector("b, i, em, strong, code, a")).toBeNull();
    expect(root.textContent?.trim()).toBe("Price <b>$5</b> <i>now</i>\nAT&amp;T *not emphasis* _nor this_ `code` [a](https://x.test)");
  });

  it("shows a line that is only a tag as text, lines kept", () => {
    const root = dom(renderMarkdown("<div>\nsecond line", "text"));
    expect(root.querySelector("div")).toBeNull();
    expect(root.textContent).toContain("<div>");
    expect(root.querySelector("br")).not.toBeNull();
  });

  it("keeps the headings and tables the backends write, not lists or rules", () => {
    const root = dom(renderMarkdown("# Receipt\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n<table><tr><td colspan=\"2\">&lt;b&gt;x</td></tr></table>\n\n___", "text"));
    expect(root.querySelector("h1")?.textContent).toBe("Receipt");
    expect(root.querySelectorAll("table")).toHaveLength(2);
    expect(root.querySelector("td[colspan]")?.textContent).toBe("<b>x");
    expect(root.querySelector("hr, ul, ol")).toBeNull();
  });

  it("model markdown keeps its line breaks too, and its own markup", () => {
    const root = dom(renderMarkdown("line one\nline two <b>bold</b>", "mineru"));
    expect(root.querySelector("br")).not.toBeNull();
    expect(root.querySelector("b")?.textContent).toBe("bold");
  });

  it("each model's math is only its own delimiters", () => {
    expect(dom(renderMarkdown("costs $3.50 or $4", "deepseek-ocr")).querySelector(".katex")).toBeNull();
    expect(dom(renderMarkdown("\\(x\\)", "mineru")).querySelector(".katex")).toBeNull();
  });
});

describe("pageWriter", () => {
  it("reads MinerU and DeepSeek-OCR as models, everything else and text layers as text", () => {
    expect(pageWriter("mineru")).toBe("mineru");
    expect(pageWriter("deepseek-ocr", { source: "backend" })).toBe("deepseek-ocr");
    expect(pageWriter("other")).toBe("text");
    expect(pageWriter("mineru", { source: "text_layer" })).toBe("text");
  });
});

describe("escapeUnlistedHtml", () => {
  it("escapes unlisted tags and keeps the listed ones", () => {
    expect(escapeUnlistedHtml("<td>1</td><iframe src=x></iframe>")).toBe("<td>1</td>&lt;iframe src=x&gt;&lt;/iframe&gt;");
  });
});

describe("sanitizeHtml", () => {
  it("removes scripts, handlers and forms from any HTML", () => {
    const clean = sanitizeHtml('<p onmouseover="x()">t</p><script>x()</script><form><input></form><svg><script>x()</script></svg>');
    expect(clean).toBe("<p>t</p>");
  });
});
