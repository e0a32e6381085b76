/// <reference lib="dom" />
/**
 * Model text to HTML strings: Markdown (markdown-it with `html: false`, so raw HTML in the text is
 * escaped, and no images), math by KaTeX (`trust: false`) for $...$, $$...$$, \(...\) and \[...\],
 * code blocks highlighted by highlight.js. The strings still go through dom.ts's htmlToFragment,
 * which sanitises again and never uses innerHTML on the live document.
 */
import hljs from "highlight.js/lib/core";
import bash from "highlight.js/lib/languages/bash";
import c from "highlight.js/lib/languages/c";
import cpp from "highlight.js/lib/languages/cpp";
import csharp from "highlight.js/lib/languages/csharp";
import css from "highlight.js/lib/languages/css";
import go from "highlight.js/lib/languages/go";
import haskell from "highlight.js/lib/languages/haskell";
import java from "highlight.js/lib/languages/java";
import javascript from "highlight.js/lib/languages/javascript";
import json from "highlight.js/lib/languages/json";
import julia from "highlight.js/lib/languages/julia";
import kotlin from "highlight.js/lib/languages/kotlin";
import latex from "highlight.js/lib/languages/latex";
import lua from "highlight.js/lib/languages/lua";
import markdown from "highlight.js/lib/languages/markdown";
import php from "highlight.js/lib/languages/php";
import plaintext from "highlight.js/lib/languages/plaintext";
import python from "highlight.js/lib/languages/python";
import r from "highlight.js/lib/languages/r";
import ruby from "highlight.js/lib/languages/ruby";
import rust from "highlight.js/lib/languages/rust";
import scala from "highlight.js/lib/languages/scala";
import shell from "highlight.js/lib/languages/shell";
import sql from "highlight.js/lib/languages/sql";
import swift from "highlight.js/lib/languages/swift";
import typescript from "highlight.js/lib/languages/typescript";
import xml from "highlight.js/lib/languages/xml";
import yaml from "highlight.js/lib/languages/yaml";
import katex from "katex";
import MarkdownIt, {type MarkdownIt as MarkdownItInstance, type StateBlock, type StateInline, type Token} from "markdown-it";
import type {PromptMode} from "../protocol/params.js";

const LANGUAGES = {
    bash, c, cpp, csharp, css, go, haskell, java, javascript, json, julia, kotlin, latex, lua, markdown, php,
    plaintext, python, r, ruby, rust, scala, shell, sql, swift, typescript, xml, yaml
};
for (const [name, language] of Object.entries(LANGUAGES)) hljs.registerLanguage(name, language);
/** Languages auto-detection picks among (the rest only by an explicit fence tag). */
const AUTO_LANGUAGES = ["python", "javascript", "typescript", "java", "cpp", "c", "csharp", "go", "rust", "bash", "ruby", "php", "sql", "haskell", "kotlin", "swift"];
const AUTO_DETECT_LIMIT = 20_000;

/** A small memo for the expensive renderers: streaming re-renders the same formulas and blocks. */
class Memo<V> {
    private readonly entries = new Map<string, V>();
    constructor(private readonly limit: number) {}
    get(key: string, compute: () => V): V {
        const hit = this.entries.get(key);
        if (hit !== undefined) {
            this.entries.delete(key);
            this.entries.set(key, hit);
            return hit;
        }
        const value = compute();
        this.entries.set(key, value);
        if (this.entries.size > this.limit) this.entries.delete(this.entries.keys().next().value as string);
        return value;
    }
}

const texMemo = new Memo<string>(1000);
const codeMemo = new Memo<string>(200);

export function escapeHtml(text: string): string {
    return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** KaTeX HTML for a formula; a formula KaTeX cannot read shows as its source, marked. */
export function renderTex(tex: string, displayMode: boolean): string {
    return texMemo.get(`${displayMode ? "D" : "I"}${tex}`, () => {
        try {
            return katex.renderToString(tex, {
                displayMode, throwOnError: false, trust: false, strict: "ignore", output: "htmlAndMathml",
                maxExpand: 1000, maxSize: 50, errorColor: "var(--vscode-errorForeground)"
            });
        } catch {
            return `<code class="math-error" title="Could not render this formula">${escapeHtml(tex)}</code>`;
        }
    });
}

/** Highlighted HTML (escaped by highlight.js) for code; "" to let markdown-it escape it plainly. */
export function highlightCode(code: string, language: string): string {
    const lang = language.trim().toLowerCase().split(/\s+/)[0] ?? "";
    return codeMemo.get(`${lang}\u0000${code}`, () => {
        try {
            if (lang !== "" && hljs.getLanguage(lang) !== undefined)
                return hljs.highlight(code, {language: lang, ignoreIllegals: true}).value;
            if (lang === "" && code.length <= AUTO_DETECT_LIMIT) {
                const auto = hljs.highlightAuto(code, AUTO_LANGUAGES);
                if (auto.relevance >= 5) return auto.value;
            }
        } catch {
            // fall through to plain text
        }
        return "";
    });
}

// ---- math in markdown-it ---------------------------------------------------------------------

interface Delimiter {
    readonly open: string;
    readonly close: string;
    readonly display: boolean;
}

const INLINE_DELIMITERS: readonly Delimiter[] = [
    {open: "$$", close: "$$", display: true},
    {open: "\\[", close: "\\]", display: true},
    {open: "\\(", close: "\\)", display: false},
    {open: "$", close: "$", display: false}
];

/** Index of the closing delimiter at or after `from`, skipping backslash escapes; -1 if none. */
function findClose(src: string, from: number, max: number, close: string): number {
    for (let i = from; i < max; i++) {
        if (src.startsWith(close, i) && i + close.length <= max) return i;
        // "\\" and "\$" are TeX escapes, not delimiters; but "\)" and "\]" are what we look for.
        if (src[i] === "\\" && close[0] !== "\\") i++;
    }
    return -1;
}

/** Index of the `}` matching the `{` at `open` (before `max`), or -1; \{ and \} are literal. */
function closingBrace(src: string, open: number, max: number): number {
    let depth = 0;
    for (let i = open; i < max; i++) {
        const c = src[i];
        if (c === "\\") i++;
        else if (c === "{") depth++;
        else if (c === "}" && --depth === 0) return i;
    }
    return -1;
}

const BARE_BOX = /^\\(?:boxed|fbox)\s*\{/;

/** A \boxed{...} written outside maths delimiters (models often do): rendered as maths too. */
function bareBox(state: StateInline, silent: boolean): boolean {
    const {src, pos, posMax} = state;
    const match = BARE_BOX.exec(src.slice(pos, Math.min(posMax, pos + 16)));
    if (match === null) return false;
    const close = closingBrace(src, pos + match[0].length - 1, posMax);
    if (close < 0) return false;
    if (!silent) {
        const token = state.push("math_inline", "math", 0);
        token.content = src.slice(pos, close + 1);
        token.markup = "\\boxed";
        token.meta = {display: false};
    }
    state.pos = close + 1;
    return true;
}

function mathInline(state: StateInline, silent: boolean): boolean {
    const {src, pos, posMax} = state;
    const ch = src[pos];
    if (ch !== "$" && ch !== "\\") return false;
    const delimiter = INLINE_DELIMITERS.find((d) => src.startsWith(d.open, pos));
    if (delimiter === undefined) return ch === "\\" && bareBox(state, silent);
    const start = pos + delimiter.open.length;
    const end = findClose(src, start, posMax, delimiter.close);
    if (end < 0) return false;
    const content = src.slice(start, end);
    if (content.trim() === "") return false;
    if (delimiter.open === "$") {
        // Pandoc's rule, so prices are not maths: no space inside the dollars, no digit after.
        if (/^\s|\s$/.test(content) || /\d/.test(src[end + 1] ?? "")) return false;
    }
    if (!silent) {
        const token = state.push("math_inline", "math", 0);
        token.content = content.trim();
        token.markup = delimiter.open;
        token.meta = {display: delimiter.display};
    }
    state.pos = end + delimiter.close.length;
    return true;
}

function mathBlock(state: StateBlock, startLine: number, endLine: number, silent: boolean): boolean {
    if (state.sCount[startLine]! - state.blkIndent >= 4) return false;
    const lineText = (line: number) => state.src.slice(state.bMarks[line]! + state.tShift[line]!, state.eMarks[line]);
    const first = lineText(startLine);
    const delimiter = first.startsWith("$$") ? {open: "$$", close: "$$"} : first.startsWith("\\[") ? {open: "\\[", close: "\\]"} : null;
    if (delimiter === null) return false;
    const lines: string[] = [];
    let rest = first.slice(delimiter.open.length);
    let line = startLine;
    for (;;) {
        const at = rest.indexOf(delimiter.close);
        if (at >= 0) {
            if (rest.slice(at + delimiter.close.length).trim() !== "") return false; // text after: inline maths
            lines.push(rest.slice(0, at));
            break;
        }
        lines.push(rest);
        line++;
        if (line >= endLine) return false; // unterminated (still streaming): leave it as text
        if (state.sCount[line]! < state.blkIndent && state.bMarks[line]! + state.tShift[line]! < state.eMarks[line]!) return false;
        rest = lineText(line);
    }
    const content = lines.join("\n").trim();
    if (content === "") return false;
    if (silent) return true;
    const token = state.push("math_block", "math", 0);
    token.block = true;
    token.content = content;
    token.markup = delimiter.open;
    token.map = [startLine, line + 1];
    state.line = line + 1;
    return true;
}

const mathPlugin = (md: MarkdownItInstance): void => {
    // Before "escape", which would turn \( and \[ into plain brackets.
    md.inline.ruler.before("escape", "math_inline", mathInline);
    md.block.ruler.before("fence", "math_block", mathBlock, {alt: ["paragraph", "reference", "blockquote", "list"]});
    md.renderer.rules.math_inline = (tokens, idx) => {
        const token = tokens[idx]!;
        return renderTex(token.content, (token.meta as {display: boolean}).display);
    };
    md.renderer.rules.math_block = (tokens, idx) => `<div class="math-block">${renderTex(tokens[idx]!.content, true)}</div>\n`;
};

const md = new MarkdownIt({
    html: false,
    linkify: false,
    typographer: false,
    breaks: false,
    langPrefix: "hljs language-",
    highlight: (code, lang) => highlightCode(code, lang)
});
md.disable("image");
md.use(mathPlugin);
// Links open outside the panel (VS Code asks first); never pass a referrer.
md.renderer.rules.link_open = (tokens, idx, options, _env, self) => {
    tokens[idx]!.attrSet("rel", "noopener noreferrer");
    return self.renderToken(tokens, idx, options);
};

const FENCE = /^ {0,3}(`{3,}|~{3,})/m;

/** Code mode text without a fence is code (a continued stub), not Markdown. */
function isBareCode(text: string, mode: PromptMode): boolean {
    return mode === "code" && !FENCE.test(text);
}

/** A code block as HTML, highlighted by `language` or by guess. */
export function codeBlockHtml(code: string, language = ""): string {
    const highlighted = highlightCode(code, language);
    return `<pre class="code-block"><code class="hljs">${highlighted !== "" ? highlighted : escapeHtml(code)}</code></pre>`;
}

/** A sample's whole text as HTML. */
export function renderMarkdown(text: string, mode: PromptMode): string {
    if (isBareCode(text, mode)) return codeBlockHtml(text);
    return md.render(text);
}

/**
 * A sample's text as the HTML of each top-level block (paragraph, list, code block, formula...),
 * so that streaming can keep the blocks that did not change.
 */
export function renderMarkdownBlocks(text: string, mode: PromptMode): string[] {
    if (isBareCode(text, mode)) return [codeBlockHtml(text)];
    const env = {};
    const blocks: string[] = [];
    let group: Token[] = [];
    for (const token of md.parse(text, env)) {
        group.push(token);
        if (token.level === 0 && token.nesting <= 0) {
            blocks.push(md.renderer.render(group, md.options, env));
            group = [];
        }
    }
    if (group.length > 0) blocks.push(md.renderer.render(group, md.options, env));
    return blocks;
}

/** One line of Markdown without a paragraph (for answers and group labels). */
export function renderInlineMarkdown(text: string): string {
    return md.renderInline(text);
}

const BOXED = /\\(?:boxed|fbox)\s*\{/;

/**
 * A final answer as HTML: as maths when it came out of a \boxed{...} in `sourceText` (it is
 * LaTeX then), as code in code mode, else as one line of Markdown.
 */
export function renderAnswer(answer: string, sourceText: string, mode: PromptMode): string {
    if (BOXED.test(sourceText) && sourceText.includes(answer)) return renderTex(answer, true);
    if (mode === "code") return codeBlockHtml(answer);
    return `<span class="inline-answer">${renderInlineMarkdown(answer)}</span>`;
}
