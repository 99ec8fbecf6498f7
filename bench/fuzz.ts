// `npm run fuzz`: >= 1,000,000 random and mutated messages through the parser and header helpers;
// exits non-zero on the first throw. Also prints parse cost for typical responses.
import { parseSipMessage } from '../src/sip/parser.js';
import { parseChallenge } from '../src/sip/digest.js';
import { getHeaderValues, getParam } from '../src/sip/headers.js';
import { SEEDS, mutate, xorshift } from '../test/fuzz-corpus.js';

const CASES = Number(process.env.FUZZ_CASES ?? 1_000_000);
const rand = xorshift(Number(process.env.FUZZ_SEED ?? 42));
const seeds = SEEDS.map((s) => Buffer.from(s));
let ok = 0;
const kinds: Record<string, number> = {};
const start = process.hrtime.bigint();
for (let i = 0; i < CASES; i++) {
  const buf = i % 10 === 0 ? Buffer.from(Array.from({ length: Math.floor(rand() * 400) }, () => Math.floor(rand() * 256))) : mutate(seeds[i % seeds.length], rand);
  try {
    const r = parseSipMessage(buf);
    if (r.ok) {
      ok++;
      for (const v of getHeaderValues(r.message, 'www-authenticate')) parseChallenge(v, false);
      for (const v of getHeaderValues(r.message, 'via')) getParam(v, 'branch');
    } else kinds[r.kind] = (kinds[r.kind] ?? 0) + 1;
  } catch (err) {
    console.error(`case ${i} threw:`, err, JSON.stringify(buf.toString('latin1')));
    process.exit(1);
  }
}
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
console.log(`fuzz: ${CASES} cases in ${seconds.toFixed(1)} s (${Math.round(CASES / seconds)}/s), no throw; ${ok} parsed, failures by kind ${JSON.stringify(kinds)}`);

for (const [name, seed] of [['200 OK', seeds[0]], ['401 + WWW-Authenticate', seeds[1]]] as const) {
  const n = 200_000;
  for (let i = 0; i < 20_000; i++) parseSipMessage(seed);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) parseSipMessage(seed);
  console.log(`parse ${name} (${seed.length} B): ${(Number(process.hrtime.bigint() - t0) / n).toFixed(0)} ns`);
}
