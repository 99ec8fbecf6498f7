// `npm run fuzz`: >= 1,000,000 random and mutated messages through the parser, the header helpers
// and the digest parsers; exits 1 on the first throw (printing the case to reproduce it), prints
// cases/s, then the per-call parse cost. FUZZ_CASES and FUZZ_SEED override the defaults.
import { parseSipMessage } from '../src/sip/parser.js';
import { parseAuthorization, parseChallenge } from '../src/sip/digest.js';
import { getHeader, getHeaderValues, getParam, parseNameAddr } from '../src/sip/headers.js';
import { SEEDS, mutate, randomBytesOf, xorshift } from '../test/helpers/sip-corpus.js';
import { printParseTimings } from './parse.js';

const CASES = Number(process.env.FUZZ_CASES ?? 1_000_000);
const SEED = Number(process.env.FUZZ_SEED ?? 42);
const rand = xorshift(SEED);
const seeds = SEEDS.map((s) => Buffer.from(s));
let parsed = 0;
const kinds: Record<string, number> = {};

/** Everything the receive path and the trunk run on a parsed message. */
function exercise(buf: Buffer): void {
  const r = parseSipMessage(buf);
  if (!r.ok) {
    kinds[r.kind] = (kinds[r.kind] ?? 0) + 1;
    return;
  }
  parsed++;
  const m = r.message;
  for (const v of getHeaderValues(m, 'via')) getParam(v, 'branch');
  for (const v of getHeaderValues(m, 'contact')) parseNameAddr(v);
  for (const v of getHeaderValues(m, 'www-authenticate')) parseChallenge(v, false);
  for (const v of getHeaderValues(m, 'proxy-authenticate')) parseChallenge(v, true);
  const auth = getHeader(m, 'authorization');
  if (auth !== undefined) parseAuthorization(auth);
  const from = getHeader(m, 'from');
  if (from !== undefined) parseNameAddr(from);
}

const start = process.hrtime.bigint();
for (let i = 0; i < CASES; i++) {
  const buf = i % 10 === 0 ? randomBytesOf(rand, 400) : mutate(seeds[i % seeds.length], rand, seeds);
  try {
    exercise(buf);
  } catch (err) {
    console.error(`fuzz: case ${i} (FUZZ_SEED=${SEED}) threw:`, err);
    console.error(JSON.stringify(buf.toString('latin1')));
    process.exit(1);
  }
}
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
console.log(`fuzz: ${CASES} cases in ${seconds.toFixed(1)} s (${Math.round(CASES / seconds)} cases/s), no throw`);
console.log(`      ${parsed} parsed; failures by kind ${JSON.stringify(kinds)}`);
printParseTimings();
