// Header names and values: compact forms (RFC 3261 7.3.3 and the IANA SIP header registry), list
// splitting that respects quotes and <>, parameter lookup, name-addr parsing. Pure string work that
// never throws: these run on values from the network.
import type { SipMessage } from './message.js';

/** Compact form -> canonical lower-case long name (IANA "Header Fields" registry, compact column). */
export const COMPACT_FORMS: Readonly<Record<string, string>> = {
  a: 'accept-contact', b: 'referred-by', c: 'content-type', d: 'request-disposition', e: 'content-encoding',
  f: 'from', i: 'call-id', j: 'reject-contact', k: 'supported', l: 'content-length', m: 'contact', n: 'identity-info',
  o: 'event', r: 'refer-to', s: 'subject', t: 'to', u: 'allow-events', v: 'via', x: 'session-expires', y: 'identity',
};

/** The same table indexed by the lower-case letter's char code, for the parser's hot loop. */
export const COMPACT_BY_CODE: readonly (string | undefined)[] = (() => {
  const table: (string | undefined)[] = new Array(128).fill(undefined);
  for (const [k, v] of Object.entries(COMPACT_FORMS)) table[k.charCodeAt(0)] = v;
  return table;
})();

/**
 * Headers whose values are comma-separated lists (RFC 3261 7.3.1 and extensions). Not the auth
 * headers (WWW-Authenticate, Authorization, Proxy-*: commas separate auth-params) nor Date.
 */
const LIST_HEADERS = new Set([
  'via', 'contact', 'route', 'record-route', 'path', 'service-route', 'allow', 'allow-events', 'supported',
  'require', 'proxy-require', 'unsupported', 'accept', 'accept-encoding', 'accept-language', 'content-encoding',
  'content-language', 'in-reply-to', 'warning', 'alert-info', 'call-info', 'error-info', 'security-client',
  'security-server', 'security-verify', 'accept-contact', 'reject-contact', 'request-disposition',
]);

/** Lower-case long form of a header name; compact forms expanded (`v` -> `via`, `I` -> `call-id`). */
export function canonicalHeaderName(name: string): string {
  const lower = name.toLowerCase();
  return lower.length === 1 ? (COMPACT_FORMS[lower] ?? lower) : lower;
}

export function isListHeader(name: string): boolean {
  return LIST_HEADERS.has(canonicalHeaderName(name));
}

/** First value of a header, any case or compact form; for list headers the whole first line. */
export function getHeader(msg: SipMessage, name: string): string | undefined {
  const wanted = canonicalHeaderName(name);
  if (msg.firstNamed !== undefined) return msg.firstNamed(wanted);
  const headers = msg.headers;
  for (let i = 0; i < headers.length; i++) if (headers[i].name === wanted) return headers[i].value;
  return undefined;
}

/** Every value in order: repeated headers, and comma-joined ones split for list headers. */
export function getHeaderValues(msg: SipMessage, name: string): string[] {
  const wanted = canonicalHeaderName(name);
  const split = LIST_HEADERS.has(wanted);
  if (msg.valuesNamed !== undefined) {
    const values = msg.valuesNamed(wanted);
    if (!split) return values;
    const out: string[] = [];
    for (const value of values) splitList(value, out);
    return out;
  }
  const out: string[] = [];
  for (const h of msg.headers) {
    if (h.name !== wanted) continue;
    if (split) splitList(h.value, out);
    else out.push(h.value);
  }
  return out;
}

/** Splits on commas outside quoted strings and <...>; empty items dropped. */
export function splitList(value: string, out: string[] = []): string[] {
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    const ch = value.charCodeAt(i);
    if (quoted) {
      if (ch === 92 /* \ */) i++;
      else if (ch === 34) quoted = false;
    } else if (ch === 34) quoted = true;
    else if (ch === 60 /* < */) depth++;
    else if (ch === 62 /* > */ && depth > 0) depth--;
    else if (ch === 44 /* , */ && depth === 0) {
      const part = value.slice(start, i).trim();
      if (part) out.push(part);
      start = i + 1;
    }
  }
  const last = value.slice(start).trim();
  if (last) out.push(last);
  return out;
}

/** Index just past the name-addr's `>` (skipping a quoted display name), 0 without one, -1 if unclosed. */
function afterAddr(value: string): number {
  let quoted = false;
  let open = -1;
  for (let i = 0; i < value.length; i++) {
    const ch = value.charCodeAt(i);
    if (quoted) {
      if (ch === 92) i++;
      else if (ch === 34) quoted = false;
    } else if (ch === 34 && open < 0) quoted = true;
    else if (ch === 60 && open < 0) open = i;
    else if (ch === 62 && open >= 0) return i + 1;
    else if (open < 0 && (ch === 59 || ch === 44)) return 0; // params start before any <...>
  }
  return open >= 0 ? -1 : 0;
}

/**
 * `;name=value` header parameter of the first element of `headerValue` (case-insensitive name,
 * quoted values unquoted, '' for a flag like `;rport`). URI parameters inside <...> are not header
 * parameters and are skipped. Values without quotes take an indexOf path (the Via branch is read
 * on every received message); quoted ones a char-by-char scan.
 */
export function getParam(headerValue: string, param: string): string | undefined {
  if (headerValue.indexOf('"') >= 0) return getParamQuoted(headerValue, param);
  const n = headerValue.length;
  let start = 0;
  const lt = headerValue.indexOf('<');
  if (lt >= 0) {
    const semi = headerValue.indexOf(';');
    const comma = headerValue.indexOf(',');
    // `<` after a `;` or `,` belongs to a parameter or to a later element, not to this address.
    if ((semi < 0 || semi > lt) && (comma < 0 || comma > lt)) {
      const gt = headerValue.indexOf('>', lt);
      if (gt < 0) return undefined;
      start = gt + 1;
    }
  }
  let limit = headerValue.indexOf(',', start);
  if (limit < 0) limit = n;
  let i = headerValue.indexOf(';', start);
  const plen = param.length;
  while (i >= 0 && i < limit) {
    let end = headerValue.indexOf(';', i + 1);
    if (end < 0 || end > limit) end = limit;
    const found = paramAt(headerValue, i + 1, end, param, plen);
    if (found !== undefined) return found;
    i = end < limit ? end : -1;
  }
  return undefined;
}

/** The value if text[from, end) is `param[=value]` (whitespace allowed around `=`), else undefined. */
function paramAt(text: string, from: number, end: number, param: string, plen: number): string | undefined {
  while (from < end && isWs(text.charCodeAt(from))) from++;
  if (end - from < plen || !equalsIgnoreCase(text, from, param)) return undefined;
  let v = from + plen;
  while (v < end && isWs(text.charCodeAt(v))) v++;
  if (v >= end) return '';
  if (text.charCodeAt(v) !== 61 /* = */) return undefined; // a longer name with the same prefix
  return unquote(text.slice(v + 1, end).trim());
}

/** getParam for values holding quoted strings: `;` `,` `<` inside quotes do not count. */
function getParamQuoted(headerValue: string, param: string): string | undefined {
  const n = headerValue.length;
  // First `;` after the address; a `,` first means the first element has no parameters.
  let i = afterAddr(headerValue);
  if (i < 0) return undefined;
  let quoted = false;
  for (; i < n; i++) {
    const ch = headerValue.charCodeAt(i);
    if (quoted) {
      if (ch === 92) i++;
      else if (ch === 34) quoted = false;
    } else if (ch === 34) quoted = true;
    else if (ch === 59) break;
    else if (ch === 44) return undefined;
  }
  const plen = param.length;
  while (i < n) {
    let end = i + 1;
    quoted = false;
    for (; end < n; end++) {
      const ch = headerValue.charCodeAt(end);
      if (quoted) {
        if (ch === 92) end++;
        else if (ch === 34) quoted = false;
      } else if (ch === 34) quoted = true;
      else if (ch === 59 /* ; */ || ch === 44 /* , */) break;
    }
    if (end > n) end = n;
    const found = paramAt(headerValue, i + 1, end, param, plen);
    if (found !== undefined) return found;
    if (end >= n || headerValue.charCodeAt(end) === 44) return undefined;
    i = end;
  }
  return undefined;
}

function isWs(c: number): boolean {
  return c === 32 || c === 9;
}

/** ASCII case-insensitive comparison of text[at, at+word.length) with word. */
function equalsIgnoreCase(text: string, at: number, word: string): boolean {
  for (let k = 0; k < word.length; k++) {
    let a = text.charCodeAt(at + k);
    let b = word.charCodeAt(k);
    if (a >= 65 && a <= 90) a |= 0x20;
    if (b >= 65 && b <= 90) b |= 0x20;
    if (a !== b) return false;
  }
  return true;
}

/** Removes surrounding double quotes and backslash escapes; other values unchanged. */
export function unquote(value: string): string {
  if (value.length >= 2 && value.charCodeAt(0) === 34 && value.charCodeAt(value.length - 1) === 34) {
    const inner = value.slice(1, -1);
    return inner.indexOf('\\') < 0 ? inner : inner.replace(/\\(.)/g, '$1');
  }
  return value;
}

/** Quotes a value for a quoted-string parameter (escapes `"` and `\`). */
export function quote(value: string): string {
  return /["\\]/.test(value) ? `"${value.replace(/(["\\])/g, '\\$1')}"` : `"${value}"`;
}

export interface NameAddr {
  displayName?: string;
  uri: string;
  params: Record<string, string>;
}

/**
 * `"Name" <uri>;p=v` or `uri;p=v` (From, To, Contact, Route...). In the bare addr-spec form the
 * parameters after `;` are header parameters (RFC 3261 20.10). null if there is no URI.
 */
export function parseNameAddr(value: string): NameAddr | null {
  const text = value.trim();
  if (!text) return null;
  let displayName: string | undefined;
  let uri: string;
  let rest: string;
  const after = afterAddr(text);
  if (after < 0) return null;
  if (after > 0) {
    const lt = text.lastIndexOf('<', after - 1);
    const name = text.slice(0, lt).trim();
    if (name) displayName = unquote(name);
    uri = text.slice(lt + 1, after - 1).trim();
    rest = text.slice(after);
  } else {
    if (text.indexOf('<') >= 0 || text.charCodeAt(0) === 34) return null; // unclosed <, or a name without <uri>
    const semi = text.indexOf(';');
    uri = (semi < 0 ? text : text.slice(0, semi)).trim();
    rest = semi < 0 ? '' : text.slice(semi);
  }
  if (!uri) return null;
  const params: Record<string, string> = {};
  let i = rest.indexOf(';');
  while (i >= 0) {
    let end = i + 1;
    let quoted = false;
    for (; end < rest.length; end++) {
      const ch = rest.charCodeAt(end);
      if (quoted) {
        if (ch === 92) end++;
        else if (ch === 34) quoted = false;
      } else if (ch === 34) quoted = true;
      else if (ch === 59) break;
    }
    const item = rest.slice(i + 1, end).trim();
    if (item) {
      const eq = item.indexOf('=');
      if (eq < 0) params[item.toLowerCase()] = '';
      else params[item.slice(0, eq).trim().toLowerCase()] = unquote(item.slice(eq + 1).trim());
    }
    i = end < rest.length ? end : -1;
  }
  return { displayName, uri, params };
}
