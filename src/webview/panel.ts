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
 *   .panel-header             select[data-choice="preset"|"mode"|"samples"] (the next run's choices, each preset's
 *                             option with its estimate), button[data-action="selectModel"], button[data-action="runAgain"]
 *   #status                   the main run's state line: "Running · 34 % · about 40 s left" | "Done in 8.2 s" | "Stopped" |
 *                             "Error" (data-state="running|done|stopped|error"; role=status, aria-live)
 *   #primary                  the main run's section; data-run-id, data-method, data-state
 *   .estimate                 while running: the expected tokens (data-estimate-tokens) and time
 *   #stop                     Stop button of the main run while it runs (posts {type:"stop", runId})
 *   #stream                   the streaming text of the main run while it runs; a stopped run's partial text
 *   #error                    error box of a failed main run (role=alert), the message in .error-message
 *   #answer                   the shown answer once Done (data-answer: the raw final answer; data-ref: which
 *                             alternative), or a stopped run's partial text (data-ref="partial"); its one action bar:
 *                             button[data-action="insert"|"replace"|"copy"|"diff"][data-ref][data-run-id]
 *   #answer .full-text        the shown alternative's text; button[data-view="rendered"|"raw"] for power runs, the raw
 *                             view is pre.raw-text with mark.changed[data-offset]
 *   .cards[role=listbox]      the alternatives (or an SMC run's particles) as .alternative[role=option][data-ref] cards,
 *                             one tab stop, arrow keys select; .alternative.chosen is the answer
 *   #how                      "How it got there" (a collapsed <details>): figures, .smc-run particles and ESS plot,
 *                             [data-compare="low-temperature"|"standard"|"power"|"smc"] buttons
 *   [data-follow="thorough"|"explore"]  follow-up buttons once a run has ended
 *   #compare                  comparison section (hidden until a re-run starts); one .run[data-run-id][data-method][data-state]
 *                             column per run, main run first
 *   #history                  this workspace's runs: button[data-reopen=runId]
 *   #live                     aria-live region announcing comparison runs' state changes
 */
import {startPanel, type VsCodeApi} from "./controller.js";

declare function acquireVsCodeApi(): VsCodeApi;

if (typeof acquireVsCodeApi === "function") {
    const start = () => startPanel(window, acquireVsCodeApi());
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start, {once: true});
    else start();
}
