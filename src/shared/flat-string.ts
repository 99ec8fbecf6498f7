// A string built by concatenation is a tree of pieces (a V8 cons string) until something flattens
// it. A string kept and concatenated into every request (a request template's fixed part, a digest
// header's head) would otherwise be walked piece by piece again each time the request is encoded:
// measured at ~5% of the generator's CPU for REGISTER. ToNumber flattens its string argument in
// place, once (the trick pino's flatstr used).

/** `s`, flattened in place so later copies of it are one memcpy. */
export function flatten(s: string): string {
  (s as unknown as number) | 0;
  return s;
}
