// Header names and values: compact forms (RFC 3261 7.3.3 and the IANA registry), list splitting that
// respects quotes and <>, and parameter lookup. Pure string work; never throws.
import type { SipMessage } from './message.js';

const COMPACT: Record<string, string> = {
  a: 'accept-contact', b: 'referred-by', c: 'content-type', d: 'request-disposition', e: 'content-encoding',
  f: 'from', i: 'call-id', j: 'reject-contact', k: 'supported', l: 'content-length', m: 'contact', n: 'identity-info',
  o: 'event', r: 'refer-to', s: 'subject', t: 'to', u: 'allow-events', v: 'via', x: 'session-expires', y: 'identity',
};

/** Headers whose values are comma-separated lists (RFC 3261 7.3.1); the auth headers are not. */
const LIST_HEADERS = new Set([
  'via', 'contact', 'route', 'record-route', 'allow', 'supported', 'require', 'proxy-require', 'unsupported',
  'accept', 'accept-encoding', 'accept-language', 'allow-events', 'content-encoding', 'in-reply-to', 'path', 'service-route',
]);

export function canonicalHeaderName(name: string): string {
  const lower = name.toLowerCase();
  return lower.length === 1 ? (COMPACT[lower] ?? lower) : lower;
}

export function getHeader(msg: SipMessage, name: string): string | undefined {
  const wanted = canonicalHeaderName(name);
  for (const h of msg.headers) if (h.name === wanted) return h.value;
  return undefined;
}

export function getHeaderValues(msg: SipMessage, name: string): string[] {
  const wanted = canonicalHeaderName(name);
  const split = LIST_HEADERS.has(wanted);
  const out: string[] = [];
  for (const h of msg.headers) {
    if (h.name !== wanted) continue;
    if (split) for (const part of splitList(h.value)) out.push(part);
    else out.push(h.value);
  }
  return out;
}

/** Splits on commas outside quoted strings and <...>. */
export function splitList(value: string): string[] {
  const out: string[] = [];
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

/** `;name=value` after the URI (params inside <...> belong to the URI and are skipped). */
export function getParam(headerValue: string, param: string): string | undefined {
  const wanted = param.toLowerCase();
  const close = headerValue.indexOf('<') >= 0 ? headerValue.lastIndexOf('>') : -1;
  let i = headerValue.indexOf(';', close + 1);
  while (i >= 0) {
    let end = i + 1;
    let quoted = false;
    for (; end < headerValue.length; end++) {
      const ch = headerValue.charCodeAt(end);
      if (ch === 34) quoted = !quoted;
      else if (!quoted && (ch === 59 /* ; */ || ch === 44 /* , */)) break;
    }
    const item = headerValue.slice(i + 1, end);
    const eq = item.indexOf('=');
    const name = (eq < 0 ? item : item.slice(0, eq)).trim().toLowerCase();
    if (name === wanted) return eq < 0 ? '' : unquote(item.slice(eq + 1).trim());
    if (end >= headerValue.length || headerValue.charCodeAt(end) === 44) return undefined;
    i = end;
  }
  return undefined;
}

export function unquote(value: string): string {
  if (value.length >= 2 && value.charCodeAt(0) === 34 && value.charCodeAt(value.length - 1) === 34) {
    return value.slice(1, -1).replace(/\\(.)/g, '$1');
  }
  return value;
}

export interface NameAddr {
  displayName?: string;
  uri: string;
  params: Record<string, string>;
}

export function parseNameAddr(value: string): NameAddr | null {
  const text = value.trim();
  if (!text) return null;
  let displayName: string | undefined;
  let uri: string;
  let rest: string;
  const lt = text.indexOf('<');
  if (lt >= 0) {
    const gt = text.indexOf('>', lt);
    if (gt < 0) return null;
    const name = text.slice(0, lt).trim();
    if (name) displayName = unquote(name);
    uri = text.slice(lt + 1, gt).trim();
    rest = text.slice(gt + 1);
  } else {
    const semi = text.indexOf(';');
    uri = (semi < 0 ? text : text.slice(0, semi)).trim();
    rest = semi < 0 ? '' : text.slice(semi);
  }
  if (!uri) return null;
  const params: Record<string, string> = {};
  for (const item of rest.split(';')) {
    const trimmed = item.trim();
    if (!trimmed) continue;
    const eq = trimmed.indexOf('=');
    if (eq < 0) params[trimmed.toLowerCase()] = '';
    else params[trimmed.slice(0, eq).trim().toLowerCase()] = unquote(trimmed.slice(eq + 1).trim());
  }
  return { displayName, uri, params };
}
