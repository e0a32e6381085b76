/** Figures as people read them, alike in the report, the command's table and the progress bar. */

/** 0.748 -> "74.8%". */
export function formatPercent(value: number, digits = 1): string {
    return `${(100 * value).toFixed(digits)}%`;
}

/** 12345.6 -> "12,346". */
export function formatCount(value: number): string {
    return Math.round(value).toLocaleString("en-US");
}

/** 350 ms, 12.3 s, 4m 05s, 2h 07m. */
export function formatDuration(ms: number): string {
    const milliseconds = Math.max(0, ms);
    if (milliseconds < 1000) return `${Math.round(milliseconds)} ms`;
    const seconds = milliseconds / 1000;
    if (seconds < 60) return `${seconds.toFixed(1)} s`;
    const minutes = Math.floor(seconds / 60);
    if (minutes < 60) return `${minutes}m ${String(Math.floor(seconds % 60)).padStart(2, "0")}s`;
    return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, "0")}m`;
}
