/// <reference lib="dom" />
/**
 * Entry point of the Power Sampling panel (webview), bundled by scripts/build.mjs to
 * dist/webview/panel.js (browser, IIFE). The host links media/panel.css and
 * dist/webview/katex.min.css (its fonts/ beside it) under a strict CSP; this script needs no
 * inline script or style: KaTeX's positioning styles are applied through the CSSOM. It posts
 * {type: "ready"} once loaded, and restores its whole view from getState() after a reload.
 *
 * Stable DOM hooks (for end-to-end tests; the main run is the first runStarted of a problem):
 *   #app                      the panel root
 *   #status                   the main run's state: "Running" | "Done" | "Stopped" | "Error"
 *                             (also data-state="running|done|stopped|error"; role=status, aria-live)
 *   #primary                  the main run's section; data-run-id, data-method, data-state
 *   #stop                     Stop button of the main run while it runs (posts {type:"stop", runId})
 *   #stream                   the streaming text of the main run (Markdown rendered); shown while it
 *                             runs and, with the partial text, after Stopped / Error; gone once Done
 *   #error                    error box of a failed main run (role=alert), the message in .error-message
 *   #answer                   the final answer block once Done; contains the final answer text,
 *                             which is also in its data-answer attribute (raw, unrendered)
 *   #answer .full-text        <details> with the chosen sample's full text; inside it
 *                             button[data-view="rendered"|"raw"] toggle; the raw view is pre.raw-text
 *                             with mark.changed[data-offset] (title "rewritten by an accepted MCMC move …")
 *   .alternative              a card per alternative (#primary .alternative for the main run's),
 *                             data-index = index into result.samples; .alternative.chosen is the answer
 *   .group                    an answer group (data-key, data-count), its .share text like "3/4 · 75 %"
 *   button[data-action="insert"|"replace"|"copy"|"diff"][data-index][data-run-id]
 *                             in each card and in #answer (for the chosen one); replace and diff are
 *                             disabled when the run had no selection
 *   [data-rerun="low-temperature"], [data-rerun="standard"]
 *                             comparison buttons (in #primary once it is not running; a button for the
 *                             run's own method is left out; disabled while that comparison runs)
 *   #compare                  comparison section (hidden until a re-run starts); one
 *                             .run[data-run-id][data-method][data-state] column per run, main run first,
 *                             each with .run-status, .answer[data-answer], and for re-runs .stop,
 *                             .stream, .error, .alternative cards
 *   #live                     aria-live region announcing comparison runs' state changes
 */
import {startPanel, type VsCodeApi} from "./controller.js";

declare function acquireVsCodeApi(): VsCodeApi;

if (typeof acquireVsCodeApi === "function") {
    const start = () => startPanel(window, acquireVsCodeApi());
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start, {once: true});
    else start();
}
