import {strict as assert} from "node:assert";
import {JSDOM} from "jsdom";
import {changedSpans, rawTextWithChanges} from "../../src/webview/changes.js";
import {htmlToFragment} from "../../src/webview/dom.js";
import {renderAnswer, renderMarkdown} from "../../src/webview/markdown.js";

function fragment(html: string): {doc: Document; root: HTMLElement} {
    const {window} = new JSDOM("<!DOCTYPE html><body></body>");
    const root = window.document.createElement("div");
    root.append(htmlToFragment(window.document, html));
    window.document.body.append(root);
    return {doc: window.document, root};
}

const DANGEROUS = "img, script, iframe, object, embed, style, link, meta, form, input, svg image, foreignObject";

describe("webview markdown and maths", () => {
    it("escapes raw HTML in model text: no elements made, the text shown", () => {
        const text = "Hi <img src=x onerror=alert(1)> and <script>alert(1)</script> <b onclick=\"x()\">bold</b>\n\n"
            + "<iframe src=\"https://evil\"></iframe>";
        const {root} = fragment(renderMarkdown(text, "math"));
        assert.equal(root.querySelectorAll(DANGEROUS).length, 0);
        assert.equal(root.querySelectorAll("b, [onclick], [onerror]").length, 0);
        assert.ok(root.textContent!.includes("<img src=x onerror=alert(1)>"));
        assert.ok(root.textContent!.includes("<script>alert(1)</script>"));
    });

    it("drops images and unsafe links that Markdown syntax asks for", () => {
        const {root} = fragment(renderMarkdown("![x](https://example.com/a.png) [click](javascript:alert(1)) [ok](https://example.com)", "chat"));
        assert.equal(root.querySelectorAll("img").length, 0);
        const links = Array.from(root.querySelectorAll("a"));
        assert.ok(links.every((a) => /^https:/.test(a.getAttribute("href") ?? "")), links.map((a) => a.outerHTML).join());
        assert.ok(links.every((a) => a.getAttribute("rel") === "noopener noreferrer"));
        assert.ok(root.textContent!.includes("[click](javascript:alert(1))"));
    });

    it("the sanitiser removes what an allowlist does not know, even in trusted-looking HTML", () => {
        const {root} = fragment("<p onmouseover=\"x()\">a<img src=x onerror=alert(1)><script>bad()</script>"
            + "<a href=\"javascript:alert(1)\">l</a><svg><image href=\"x\"/><foreignObject><div>f</div></foreignObject></svg></p>");
        assert.equal(root.querySelectorAll(DANGEROUS).length, 0);
        assert.equal(root.querySelector("p")!.hasAttribute("onmouseover"), false);
        assert.equal(root.querySelector("a")!.hasAttribute("href"), false);
        assert.ok(!root.textContent!.includes("bad()"));
    });

    it("renders $...$, \\(...\\), $$...$$ and \\[...\\] with KaTeX", () => {
        const text = "Inline $x^2$ and \\(a+b\\).\n\n$$\n\\frac{1}{2}\n$$\n\n\\[ y = \\sqrt{3} \\]\n\nAlso $$z$$ inline.";
        const {root} = fragment(renderMarkdown(text, "math"));
        assert.equal(root.querySelectorAll(".katex").length, 5);
        assert.equal(root.querySelectorAll(".katex-display").length, 3);
        assert.ok(root.querySelector(".mfrac"), "a fraction laid out");
        const annotations = Array.from(root.querySelectorAll("annotation")).map((a) => a.textContent);
        assert.deepEqual(annotations, ["x^2", "a+b", "\\frac{1}{2}", "y = \\sqrt{3}", "z"]);
    });

    it("renders a \\boxed{...} outside maths delimiters as maths, braces balanced", () => {
        const {root} = fragment(renderMarkdown("so \\boxed{\\frac{1}{2}} done, not \\boxed{open", "math"));
        const annotations = Array.from(root.querySelectorAll("annotation")).map((a) => a.textContent);
        assert.deepEqual(annotations, ["\\boxed{\\frac{1}{2}}"]);
        assert.ok(root.textContent!.includes("done, not \\boxed{open"));
    });

    it("applies KaTeX's inline styles through the CSSOM, leaving no style markup to the CSP", () => {
        const html = renderMarkdown("$\\frac{1}{2}$", "math");
        assert.ok(/style="/.test(html), "KaTeX uses style attributes");
        const {root} = fragment(html);
        assert.equal(root.querySelectorAll("[data-css]").length, 0);
        const styled = Array.from(root.querySelectorAll<HTMLElement>(".katex-html *")).filter((el) => el.style.length > 0);
        assert.ok(styled.length > 0);
    });

    it("leaves prices, escaped dollars, unterminated and code-spanned maths as text", () => {
        const {root} = fragment(renderMarkdown("It costs $5 and $10. A \\$ sign. Open $$ x and `$y$` and\n\n```\n$z$\n```", "math"));
        assert.equal(root.querySelectorAll(".katex").length, 0);
        assert.ok(root.textContent!.includes("$5 and $10"));
        assert.ok(root.textContent!.includes("A $ sign"));
        assert.ok(root.querySelector("code")!.textContent!.includes("$y$"));
    });

    it("does not trust TeX: no links, classes or images from \\href, \\htmlClass, \\includegraphics", () => {
        const {root} = fragment(renderMarkdown("$\\href{javascript:alert(1)}{x}$ $\\htmlClass{evil}{y}$ $\\includegraphics{http://x/y.png}$", "math"));
        assert.equal(root.querySelectorAll("a, img, .evil").length, 0);
    });

    it("highlights fenced code, and code-mode text without fences is one code block", () => {
        const fenced = fragment(renderMarkdown("Code:\n\n```python\ndef f(x):\n    return 1\n```\n", "chat")).root;
        assert.ok(fenced.querySelector("pre code.hljs .hljs-keyword"));
        const bare = fragment(renderMarkdown("    # not a heading\n    return [x for x in xs if x > 0]\n", "code")).root;
        assert.ok(bare.querySelector("pre.code-block"));
        assert.equal(bare.querySelectorAll("h1").length, 0);
        assert.ok(bare.textContent!.includes("# not a heading"));
    });

    it("renders a boxed final answer as maths, others as Markdown or code", () => {
        assert.ok(fragment(renderAnswer("\\frac{1}{2}", "so \\boxed{\\frac{1}{2}}", "math")).root.querySelector(".katex-display .mfrac"));
        const line = fragment(renderAnswer("The answer is <b>7</b>", "The answer is <b>7</b>", "chat")).root;
        assert.equal(line.querySelectorAll("b").length, 0);
        assert.ok(line.textContent!.includes("<b>7</b>"));
        assert.ok(fragment(renderAnswer("return 1", "```\nreturn 1\n```", "code")).root.querySelector("pre.code-block"));
    });
});

describe("webview changed spans", () => {
    const text = "The answer is forty two\nso we get 42.";

    it("marks from each offset to the end of the word there", () => {
        const spans = changedSpans(text, [4, 14]);
        assert.deepEqual(spans.map((s) => text.slice(s.start, s.end)), ["answer", "forty"]);
    });

    it("takes leading whitespace with the following word, merges overlaps, ignores offsets outside the text", () => {
        const spans = changedSpans(text, [13, 15, -1, 999, 2.5, text.length]);
        assert.deepEqual(spans.map((s) => [text.slice(s.start, s.end), s.moves]), [[" forty", 2]]);
        assert.deepEqual(changedSpans("", [0]), []);
    });

    it("caps a span's length", () => {
        const long = "x".repeat(100);
        const [span] = changedSpans(long, [10]);
        assert.ok(span!.end - span!.start <= 24);
    });

    it("builds a raw view with marks, the rest as text nodes", () => {
        const {window} = new JSDOM("<!DOCTYPE html><body></body>");
        const pre = rawTextWithChanges(window.document, "a <b>x</b> c", [2]);
        assert.equal(pre.textContent, "a <b>x</b> c");
        assert.equal(pre.querySelectorAll("b").length, 0);
        const mark = pre.querySelector("mark.changed")!;
        assert.equal(mark.textContent, "<b>x</b>");
        assert.equal(mark.getAttribute("data-offset"), "2");
        assert.match(mark.getAttribute("title")!, /^rewritten by an accepted MCMC move/);
    });
});
