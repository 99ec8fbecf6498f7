// Kamailio's own counters (`stats.get_statistics all`), typed in the embedded trunk's words
// (received / answered / dropped) so a run reconciles against either target the same way. Pure.

export interface KamailioStats {
  /**
   * SIP requests received, by method (core:rcv_requests_<method>): every datagram or stream
   * message, so retransmissions and requests the loss switch dropped are included.
   */
  received: Record<string, number>;
  /**
   * SIP replies Kamailio generated, by exact status code (the config's script:rpl_<code> counters,
   * fed by sl's and tm's local-response events): "200", "401", "403", "429", "503", ... and "other"
   * for a code the config does not list. The JSON-RPC HTTP answers are not in here.
   */
  answered: Record<string, number>;
  /** Requests the loss switch dropped without an answer (script:dropped_loss). */
  dropped: number;
  /** REGISTERs the registrar accepted / rejected (registrar:accepted_regs, rejected_regs). */
  registrar: { accepted: number; rejected: number };
  /** AORs with a binding now (usrloc:registered_users). */
  registeredUsers: number;
  /**
   * The sl module's own per-class counters, for reference. Beware: sl also sends xhttp's HTTP
   * replies, so sl:200_replies counts the JSON-RPC calls too; prefer `answered`.
   */
  sl: Record<string, number>;
  /** Shared memory in use, bytes (shmem:real_used_size): the `-m` budget's headroom. */
  shmUsedBytes: number;
  /** Every statistic as Kamailio names it. */
  raw: Record<string, number>;
}

const RECEIVED_PREFIX = 'core:rcv_requests_';
const ANSWERED_PREFIX = 'script:rpl_';
const SL_PREFIX = 'sl:';

export function toKamailioStats(raw: Record<string, number>): KamailioStats {
  const received: Record<string, number> = { REGISTER: 0, OPTIONS: 0 };
  const answered: Record<string, number> = {};
  const sl: Record<string, number> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (name.startsWith(RECEIVED_PREFIX)) {
      const method = name.slice(RECEIVED_PREFIX.length).toUpperCase();
      if (value > 0 || method === 'REGISTER' || method === 'OPTIONS') received[method] = value;
    } else if (name.startsWith(ANSWERED_PREFIX)) {
      if (value > 0) answered[name.slice(ANSWERED_PREFIX.length)] = value;
    } else if (name.startsWith(SL_PREFIX)) {
      sl[name.slice(SL_PREFIX.length)] = value;
    }
  }
  return {
    received,
    answered,
    dropped: raw['script:dropped_loss'] ?? 0,
    registrar: { accepted: raw['registrar:accepted_regs'] ?? 0, rejected: raw['registrar:rejected_regs'] ?? 0 },
    registeredUsers: raw['usrloc:registered_users'] ?? 0,
    sl,
    shmUsedBytes: raw['shmem:real_used_size'] ?? 0,
    raw,
  };
}

/**
 * What happened between two snapshots (counters subtract; gauges such as registeredUsers and
 * shmUsedBytes take the later value). Reconcile a run against this rather than resetting Kamailio.
 */
export function diffStats(before: KamailioStats, after: KamailioStats): KamailioStats {
  const sub = (a: Record<string, number>, b: Record<string, number>) => {
    const out: Record<string, number> = {};
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const d = (b[key] ?? 0) - (a[key] ?? 0);
      if (d !== 0 || key === 'REGISTER' || key === 'OPTIONS') out[key] = d;
    }
    return out;
  };
  return {
    received: sub(before.received, after.received),
    answered: sub(before.answered, after.answered),
    dropped: after.dropped - before.dropped,
    registrar: { accepted: after.registrar.accepted - before.registrar.accepted, rejected: after.registrar.rejected - before.registrar.rejected },
    registeredUsers: after.registeredUsers,
    sl: sub(before.sl, after.sl),
    shmUsedBytes: after.shmUsedBytes,
    raw: after.raw,
  };
}
