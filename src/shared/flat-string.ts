// A string built by concatenation is a tree of pieces (a V8 cons string) until something flattens
// it. A string kept and concatenated into every request (a request template's fixed part, a digest
// header's head) would otherwise be walked piece by piece again each time the request is encoded,
// and its pieces kept alive with it. ToNumber flattens its string argument in place, once (the trick
// pino's flatstr used); the result goes to a sink because optimised code drops an unused ToNumber of
// a string (pure), and then nothing is flattened: a heap snapshot showed every agent's templates
// still as trees of ~16 pieces, built in hot code.

let sink = 0;

/** `s`, flattened in place so later copies of it are one memcpy. */
export function flatten(s: string): string {
  sink ^= (s as unknown as number) | 0;
  return s;
}
