/**
 * Secrets out of text a user or a log sees: model references are URLs, and a URL can carry a
 * password (https://user:password@host/...) or a token in its query (?token=..., &sig=...,
 * X-Amz-Signature=...). Every message and status that may hold a reference goes through
 * `redactSecrets`.
 */

/** Query parameters whose names contain one of these hold secrets (case-insensitive). */
const SECRET_PARAMETER = /token|sig|key|secret|passw|pwd|auth|credential|session/i;

/** `scheme://userinfo@`: the user name can be a token itself, so all of it goes. */
const USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@]*@/gi;
/** `?name=value` or `&name=value` (or `;`), up to the next separator or whitespace. */
const PARAMETER = /([?&;])([^=&;#\s]+)=([^&;#\s]*)/g;
/** Hugging Face access tokens and bearer credentials, wherever they appear. */
const BARE_TOKEN = /\bhf_[A-Za-z0-9]{8,}|\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/g;

/** `text` with URL credentials, secret query parameters and access tokens replaced by "***". */
export function redactSecrets(text: string): string {
    return text
        .replace(USERINFO, "$1***@")
        .replace(PARAMETER, (whole, separator: string, name: string, value: string) => {
            if (value === "" || !SECRET_PARAMETER.test(safeDecode(name))) return whole;
            // A URL ending a sentence keeps the punctuation after it ("...?token=abc: HTTP 404").
            return `${separator}${name}=***${/[:,.)\]]*$/.exec(value)![0]}`;
        })
        .replace(BARE_TOKEN, (_, scheme: string | undefined) => (scheme ? `${scheme} ***` : "hf_***"));
}

function safeDecode(text: string): string {
    try {
        return decodeURIComponent(text);
    } catch {
        return text;
    }
}
