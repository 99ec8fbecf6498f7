// Blanks out what looks like a credential in free text that ends up in a report or a log (hook output,
// RPC answers, error messages). Errs on the side of hiding too much: a redacted counter is harmless,
// a leaked password is not.

export const REDACTED = '[redacted]';

// Each rule keeps the key and its separator (group 1 and 2) and replaces the value.
const RULES: RegExp[] = [
  // Authorization / Proxy-Authorization (SIP or HTTP), header or JSON key: the rest of the line.
  /\b((?:proxy-)?authorization)(["']?[ \t]*[:=][ \t]*)([^\r\n]+)/gi,
  // key=value / key: value where the key ends in a secret word (password, db_password, api_key, auth-token...).
  /\b([\w-]*(?:password|passwd|passphrase|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|secret[_-]?key))(["']?[ \t]*[:=][ \t]*)("[^"\r\n]*"?|'[^'\r\n]*'?|[^\s&;,'"]+)/gi,
  // Command-line flags with the value after a space: --password hunter2, -token abc.
  /(?<![\w-])(--?[\w-]*(?:password|passwd|passphrase|secret|token|api-?key))([ \t]+)([^\s-][^\s]*)/gi,
  // Digest parameters (SIP/HTTP challenges and answers).
  /\b(c?nonce)(["']?[ \t]*[:=][ \t]*)("[^"\r\n]*"?|[^\s,;'"]+)/gi,
  /\b(response|opaque)([ \t]*=[ \t]*)("[^"\r\n]*"?|[^\s,;'"]+)/gi,
  // Bearer tokens on their own (not a challenge's `Bearer realm="..."`).
  /\b(Bearer)([ \t]+)(?![\w-]+=")([A-Za-z0-9._~+/-]+=*)/g,
];

// user:password@ in a URL: keep the user.
const URL_USERINFO = /(\b[a-z][\w+.-]*:\/\/[^\s:@/]*):([^\s@/]+)@/gi;

/** The text with credential values replaced by [redacted] (keys and layout kept). */
export function redactCredentials(text: string): string {
  let out = text.replace(URL_USERINFO, `$1:${REDACTED}@`);
  for (const rule of RULES) out = out.replace(rule, replaceValue);
  return out;
}

function replaceValue(match: string, key: string, sep: string, value: string): string {
  // Keep the quotes around a quoted value, so JSON and header layouts still read right.
  const quote = value[0] === '"' || value[0] === "'" ? value[0] : '';
  const closed = quote !== '' && value.length > 1 && value[value.length - 1] === quote;
  const bare = quote ? value.slice(1, closed ? -1 : undefined) : value;
  if (bare === REDACTED) return match;
  return `${key}${sep}${quote}${REDACTED}${closed ? quote : ''}`;
}
