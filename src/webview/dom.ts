/// <reference lib="dom" />
/**
 * DOM helpers. Model text reaches the document only as textContent, or as HTML that markdown.ts
 * made (markdown-it with html: false, KaTeX with trust: false) and that htmlToFragment parses in a
 * separate inert document, filters through an allowlist, and imports. Inline `style` attributes
 * (KaTeX positions glyphs with them) are re-applied through the CSSOM, which a strict CSP allows,
 * where style attributes in markup would be blocked.
 */

type Attrs = Record<string, string | number | boolean | null | undefined>;
type Child = Node | string | null | undefined | false;

/** createElement with attributes (false/null/undefined omitted, true as "") and children (strings as text). */
export function h<K extends keyof HTMLElementTagNameMap>(doc: Document, tag: K, attrs: Attrs = {}, ...children: (Child | Child[])[]): HTMLElementTagNameMap[K] {
    const el = doc.createElement(tag);
    setAttrs(el, attrs);
    append(el, children);
    return el;
}

const SVG_NS = "http://www.w3.org/2000/svg";

export function svg(doc: Document, tag: string, attrs: Attrs = {}, ...children: (Child | Child[])[]): SVGElement {
    const el = doc.createElementNS(SVG_NS, tag) as SVGElement;
    setAttrs(el, attrs);
    append(el, children);
    return el;
}

function setAttrs(el: Element, attrs: Attrs): void {
    for (const [name, value] of Object.entries(attrs)) {
        if (value === false || value === null || value === undefined) continue;
        el.setAttribute(name, value === true ? "" : String(value));
    }
}

function append(el: Element, children: (Child | Child[])[]): void {
    for (const child of children.flat()) {
        if (child === null || child === undefined || child === false) continue;
        el.append(typeof child === "string" ? el.ownerDocument.createTextNode(child) : child);
    }
}

const HTML_ELEMENTS = new Set([
    "a", "p", "div", "span", "br", "hr", "em", "strong", "s", "del", "code", "pre", "blockquote", "ul", "ol", "li",
    "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td"
]);
const MATHML_ELEMENTS = new Set([
    "math", "semantics", "annotation", "mrow", "mi", "mn", "mo", "ms", "mtext", "mspace", "msup", "msub", "msubsup",
    "mfrac", "msqrt", "mroot", "mover", "munder", "munderover", "mtable", "mtr", "mtd", "mpadded", "mphantom",
    "menclose", "mstyle", "merror", "mlabeledtr", "mprescripts", "mmultiscripts", "none"
]);
const SVG_ELEMENTS = new Set(["svg", "path", "line", "rect", "g"]);
/** Attributes that may carry a URL or script, beyond on*: dropped everywhere (href: see below). */
const DANGEROUS_ATTRS = new Set(["src", "srcset", "xlink:href", "action", "formaction", "background", "poster", "data", "srcdoc", "ping"]);
const SAFE_LINK = /^(?:https?:|mailto:|#)/i;

function allowedElement(el: Element): boolean {
    const name = el.localName;
    switch (el.namespaceURI) {
        case "http://www.w3.org/1999/xhtml": return HTML_ELEMENTS.has(name);
        case "http://www.w3.org/1998/Math/MathML": return MATHML_ELEMENTS.has(name);
        case SVG_NS: return SVG_ELEMENTS.has(name);
        default: return false;
    }
}

/** Drops what the allowlist does not know (keeping its text), handlers, URLs other than safe links. */
function sanitise(root: Element): void {
    for (const el of Array.from(root.querySelectorAll("*"))) {
        if (!root.contains(el)) continue; // inside an element already dropped
        if (!allowedElement(el)) {
            const keepText = !["script", "style", "template", "iframe", "object", "embed", "noscript"].includes(el.localName);
            el.replaceWith(...(keepText ? [el.ownerDocument.createTextNode(el.textContent ?? "")] : []));
            continue;
        }
        for (const attr of Array.from(el.attributes)) {
            const name = attr.name.toLowerCase();
            if (name.startsWith("on") || DANGEROUS_ATTRS.has(name)) el.removeAttribute(attr.name);
            else if (name === "href" && (el.localName !== "a" || !SAFE_LINK.test(attr.value.trim()))) el.removeAttribute(attr.name);
            else if (name === "style") {
                el.setAttribute("data-css", attr.value);
                el.removeAttribute("style");
            } else if (name === "data-css" && !/^[\w\s:;.,%()#+-]*$/.test(attr.value)) el.removeAttribute(attr.name);
        }
    }
}

/** Parses HTML made by markdown.ts into a fragment of `doc`, sanitised, styles applied by CSSOM. */
export function htmlToFragment(doc: Document, html: string): DocumentFragment {
    const view = doc.defaultView;
    if (view === null) throw new Error("htmlToFragment needs a document with a window");
    // A separate document: nothing in it runs or loads. Chromium applies the panel's CSP to it
    // too, so style attributes are renamed before parsing (a literal `style="` can only be an
    // attribute: markdown-it, highlight.js and KaTeX escape quotes in text) to avoid violations.
    const renamed = html.replace(/(<[a-zA-Z][^<>]*?\s)style="/g, "$1data-css=\"");
    const parsed = new view.DOMParser().parseFromString(`<!DOCTYPE html><body><div id="root">${renamed}</div>`, "text/html");
    const root = parsed.getElementById("root")!;
    sanitise(root);
    const fragment = doc.createDocumentFragment();
    for (const node of Array.from(root.childNodes)) fragment.append(doc.importNode(node, true));
    for (const el of Array.from(fragment.querySelectorAll("[data-css]"))) {
        const css = el.getAttribute("data-css") ?? "";
        el.removeAttribute("data-css");
        const style = (el as HTMLElement | SVGElement).style as CSSStyleDeclaration | undefined;
        if (style !== undefined) style.cssText = css;
    }
    return fragment;
}

/** A container of `tag` holding the HTML as sanitised nodes. */
export function htmlElement<K extends keyof HTMLElementTagNameMap>(doc: Document, tag: K, attrs: Attrs, html: string): HTMLElementTagNameMap[K] {
    const el = h(doc, tag, attrs);
    el.append(htmlToFragment(doc, html));
    return el;
}
