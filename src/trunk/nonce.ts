// Stateless nonces: issue time + a keyed hash, so any number of agents costs no memory and the
// trunk can tell an expired nonce (401 stale=true) from a forged one (fresh 401), and when a nonce
// was issued (the publish window's stale-credentials mode refuses nonces from before it).
import { hash, randomBytes } from 'node:crypto';

export class NonceKeeper {
  private readonly secret = randomBytes(16).toString('hex');

  issue(nowUs: number): string {
    const issued = Math.floor(nowUs).toString(16);
    return `${issued}.${this.tag(issued)}`;
  }

  /** Issue time (us) of a nonce this trunk made, or -1 (not ours, or tampered with). */
  issuedAt(nonce: string): number {
    const dot = nonce.indexOf('.');
    if (dot <= 0 || dot > 14) return -1;
    const issued = nonce.slice(0, dot);
    if (nonce.slice(dot + 1) !== this.tag(issued)) return -1;
    const us = Number.parseInt(issued, 16);
    return Number.isFinite(us) ? us : -1;
  }

  private tag(issued: string): string {
    // One-shot hash: about half the cost of createHash().update().digest() at request rate.
    return hash('md5', this.secret + issued).slice(0, 16);
  }
}
