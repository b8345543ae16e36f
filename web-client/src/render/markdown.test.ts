import { describe, expect, it } from "vitest";
import { escapeUnlistedHtml } from "./html_filter";
import { renderMarkdown } from "./markdown";
import { sanitizeHtml } from "./sanitize";

const PNG = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

function dom(html: string): HTMLElement {
  const div = document.createElement("div");
  div.innerHTML = html; // test only: inspect what the page would get
  return div;
}

describe("renderMarkdown", () => {
  it("renders headings, lists and emphasis", () => {
    const root = dom(renderMarkdown("# Title\n\n- one\n- **two**"));
    expect(root.querySelector("h1")?.textContent).toBe("Title");
    expect(root.querySelectorAll("li")).toHaveLength(2);
    expect(root.querySelector("strong")?.textContent).toBe("two");
  });

  it("keeps the HTML tables document models write", () => {
    const root = dom(renderMarkdown('<table><tr><td colspan="2">a &amp; b</td></tr><tr><td>1</td><td>2</td></tr></table>'));
    expect(root.querySelectorAll("table td")).toHaveLength(3);
    expect(root.querySelector("td")?.getAttribute("colspan")).toBe("2");
    expect(root.querySelector("td")?.textContent).toBe("a & b");
  });

  it("renders markdown pipe tables", () => {
    const root = dom(renderMarkdown("| a | b |\n|---|---|\n| 1 | 2 |"));
    expect(root.querySelectorAll("th")).toHaveLength(2);
  });

  it("renders math in every delimiter the backends use", () => {
    for (const source of ["$x^2$", "\n\n$$\\frac{a}{b}$$\n\n", "\\(x^2\\)", "\n\n\\[\\frac{a}{b}\\]\n\n"]) {
      const root = dom(renderMarkdown(`Before ${source} after`));
      expect(root.querySelector(".katex"), source).not.toBeNull();
    }
  });

  it("embeds figure crops given as raster data URIs", () => {
    const root = dom(renderMarkdown(`![figure](${PNG})`));
    expect(root.querySelector("img")?.getAttribute("src")).toBe(PNG);
  });

  it("shows scanned HTML as text, not as elements", () => {
    const root = dom(renderMarkdown("<img src=x onerror=alert(1)>"));
    expect(root.querySelector("img")).toBeNull();
    expect(root.textContent).toContain("<img src=x onerror=alert(1)>");
    const inline = dom(renderMarkdown("Total <script>alert(1)</script> due"));
    expect(inline.querySelector("script")).toBeNull();
    expect(inline.textContent).toContain("<script>alert(1)</script>");
  });

  it("keeps text with stray angle brackets", () => {
    expect(dom(renderMarkdown("a < b and c > d")).textContent).toContain("a < b and c > d");
  });

  it("never lets an event handler or a script URL through, even inside kept tags", () => {
    const html = renderMarkdown('<table><tr><td onclick="alert(1)" style="x">c</td></tr></table>\n\n[x](javascript:alert(1))\n\n![a](javascript:alert(1))');
    const root = dom(html);
    expect(root.querySelector("[onclick], [style]")).toBeNull();
    expect(root.querySelector("a[href], img[src]")).toBeNull();
    expect(root.querySelector("td")?.textContent).toBe("c");
  });

  it("drops remote and SVG images", () => {
    const root = dom(renderMarkdown("![a](http://example.com/a.png) ![b](data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=)"));
    for (const img of root.querySelectorAll("img")) expect(img.getAttribute("src")).toBeNull();
  });

  it("opens links in a new tab without an opener", () => {
    const link = dom(renderMarkdown("[docs](https://example.com)")).querySelector("a");
    expect(link?.getAttribute("rel")).toBe("noopener noreferrer");
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
