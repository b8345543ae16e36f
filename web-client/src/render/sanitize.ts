/** The one gate between model output and the page: DOMPurify with a narrow allow-list. */
import DOMPurify from "dompurify";

/** Figure crops come as data URIs of raster images; anything else in an img src is dropped (no
 * remote images: a page must not make the browser call out, and SVG can carry script). */
const RASTER_DATA_URI = /^data:image\/(png|jpeg|gif|webp);base64,[a-z0-9+/=\s]+$/i;
const SAFE_LINK = /^(https?:|mailto:|#)/i;

const purifier = DOMPurify();

purifier.addHook("uponSanitizeAttribute", (node, data) => {
  const tag = node.nodeName.toLowerCase();
  if (data.attrName === "src") {
    data.keepAttr = tag === "img" && RASTER_DATA_URI.test(data.attrValue);
    data.forceKeepAttr = data.keepAttr ? true : undefined;
  } else if (data.attrName === "style") {
    // KaTeX sizes its glyphs with inline styles; nothing else may restyle (or cover) the page.
    data.keepAttr = Boolean((node as Element).closest?.(".katex, .katex-display"));
  } else if (data.attrName === "href") {
    data.keepAttr = tag === "a" && SAFE_LINK.test(data.attrValue.trim());
  }
});

purifier.addHook("afterSanitizeAttributes", (node) => {
  if (node.nodeName.toLowerCase() === "a" && node.getAttribute("href")) {
    node.setAttribute("target", "_blank");
    node.setAttribute("rel", "noopener noreferrer");
  }
  if (node.nodeName.toLowerCase() === "img" && !node.getAttribute("src")) {
    node.setAttribute("alt", `[image not shown: ${node.getAttribute("alt") ?? ""}]`);
  }
});

const CONFIG = {
  USE_PROFILES: { html: true, mathMl: true },
  FORBID_TAGS: ["style", "form", "input", "button", "textarea", "select", "iframe", "object", "embed", "link", "meta", "base"],
  FORBID_ATTR: ["id", "name", "srcset", "formaction", "xlink:href"],
  ALLOW_DATA_ATTR: false,
};

export function sanitizeHtml(html: string): string {
  return purifier.sanitize(html, CONFIG) as string;
}
