/**
 * Server addresses as the user gives them (--server, the backend's `server` option): checked once,
 * at the boundary. Prompts are the user's code and problems: they go over plain http only to this
 * machine (loopback) unless the user has said, explicitly, that the network may read them.
 */
import {isIP} from "node:net";
import {InvalidInputError} from "../protocol/errors.js";

export interface AddressOptions {
    /** Plain http to another machine: prompts and the API key travel readable by the network. */
    readonly allowPlainHttp?: boolean;
    /** How the user names the opt-in, for the message (a flag or an option). */
    readonly optIn?: string;
}

/**
 * The base URL of a server (scheme, host, port and path prefix, no trailing slash). Refuses what
 * cannot be a server address, credentials in the URL (they would be logged and shown), and plain
 * http to a host other than this machine without the opt-in.
 */
export function parseServerUrl(text: string, options: AddressOptions = {}): string {
    const given = text.trim();
    let url: URL;
    try {
        url = new URL(given);
    } catch {
        throw new InvalidInputError(`server ${JSON.stringify(text)} is not a URL: give one like http://127.0.0.1:8080`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:")
        throw new InvalidInputError(`server ${given} must be an http:// or https:// URL, not ${url.protocol}`);
    if (url.username !== "" || url.password !== "")
        throw new InvalidInputError(`server ${url.host}: put no credentials in the URL; give the API key through an environment variable (--api-key-env) or the API key setting`);
    if (url.search !== "" || url.hash !== "") throw new InvalidInputError(`server ${given}: a server URL takes no query or fragment`);
    if (url.protocol === "http:" && !isLoopback(url.hostname) && !options.allowPlainHttp)
        throw new InvalidInputError(`refusing to send prompts over plain http to ${url.host}, another machine: use https, `
            + `or allow plain http explicitly with ${options.optIn ?? "--allow-plain-http"} if the network between is yours`);
    return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, "")}`;
}

/** Several servers' URLs, each checked; none twice. */
export function parseServerUrls(texts: readonly string[], options: AddressOptions = {}): string[] {
    if (texts.length === 0) throw new InvalidInputError("no server given");
    const urls = texts.map((text) => parseServerUrl(text, options));
    const duplicate = urls.find((url, i) => urls.indexOf(url) !== i);
    if (duplicate !== undefined) throw new InvalidInputError(`server ${duplicate} is given twice`);
    return urls;
}

/** This machine: localhost, 127.0.0.0/8 or ::1 (what never leaves it). */
export function isLoopback(hostname: string): boolean {
    const host = hostname.replace(/^\[|\]$/g, "").toLowerCase();
    if (host === "localhost" || host.endsWith(".localhost")) return true;
    if (isIP(host) === 4) return host.startsWith("127.");
    // URL writes an IPv4-mapped address in hex: ::ffff:127.0.0.1 is ::ffff:7f00:1.
    if (isIP(host) === 6) return host === "::1" || /^::ffff:7f[0-9a-f]{2}:/.test(host);
    return false;
}
