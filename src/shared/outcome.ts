// The outcome taxonomy every layer shares. Pure: no imports, so metrics/report/control can use it
// without depending on the SIP code.

/** Every operation ends in exactly one of these. Order is the report's column order. */
export const OUTCOME_CLASSES = [
  'ok',
  'forbidden',
  'throttled',
  'overload',
  'auth_failed',
  'client_error',
  'server_error',
  'global_error',
  'timeout',
  'transport_error',
  'malformed',
  'dropped',
] as const;

export type OutcomeClass = (typeof OUTCOME_CLASSES)[number];

const OUTCOME_INDEX = new Map<string, number>(OUTCOME_CLASSES.map((c, i) => [c, i]));

/**
 * Position of a class in OUTCOME_CLASSES, -1 if it is none. A Map: indexing an object by a varying
 * key went megamorphic on the per-operation path.
 */
export function outcomeIndex(cls: string): number {
  return OUTCOME_INDEX.get(cls) ?? -1;
}

export const SIP_METHODS = ['REGISTER', 'OPTIONS'] as const;
export type SipMethod = (typeof SIP_METHODS)[number];

/** Explicit status -> class overrides; anything not listed falls back to {@link defaultClassOf}. */
export type ClassMap = Readonly<Record<number, OutcomeClass>>;

/** RFC 3261 ranges plus the codes the publish incidents are about. */
export function defaultClassOf(status: number): OutcomeClass {
  if (status >= 200 && status < 300) return 'ok';
  if (status === 403) return 'forbidden';
  // 429 is "Provide Referrer Identity" in the SIP registry (RFC 3892) but trunks use it to throttle.
  if (status === 429) return 'throttled';
  if (status === 503) return 'overload';
  if (status >= 400 && status < 500) return 'client_error';
  if (status >= 500 && status < 600) return 'server_error';
  if (status >= 600 && status < 700) return 'global_error';
  return 'malformed';
}

/** Builds a fast lookup (index = status code) so the hot path does one array read. */
export function compileClassMap(overrides: ClassMap = {}): (status: number) => OutcomeClass {
  const table: OutcomeClass[] = new Array(700);
  for (let code = 0; code < 700; code++) table[code] = overrides[code] ?? defaultClassOf(code);
  return (status) => (status >= 0 && status < 700 ? table[status] : 'malformed');
}

export function isOutcomeClass(value: string): value is OutcomeClass {
  return (OUTCOME_CLASSES as readonly string[]).includes(value);
}
