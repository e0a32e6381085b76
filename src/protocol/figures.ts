/**
 * Figures as people read them, alike on every surface: the panel, the status bar, the command
 * line, its progress bar and the evaluation report.
 */

/** 0.748 -> "75 %", or "74.8 %" with one digit; "—" when there is no figure. */
export function formatPercent(rate: number | null, digits = 0): string {
    return rate === null || !Number.isFinite(rate) ? "—" : `${(100 * rate).toFixed(digits)} %`;
}

/** 12345.6 -> "12,346". */
export function formatCount(value: number): string {
    return Math.round(value).toLocaleString("en-US");
}

/** 350 ms, 4.2 s, 12 s, 4 min 5 s, 2 h 7 min; "—" when there is no figure. */
export function formatDuration(ms: number): string {
    if (!Number.isFinite(ms) || ms < 0) return "—";
    if (ms < 1000) return `${Math.round(ms)} ms`;
    const seconds = ms / 1000;
    if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
    const minutes = Math.floor(seconds / 60);
    if (minutes < 60) return `${minutes} min ${Math.floor(seconds - minutes * 60)} s`;
    return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}
