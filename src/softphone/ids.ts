// Strong random identifiers for sip.js agents.
//
// sip.js 0.21 draws its identifiers from Math.random: Call-ID (15 base-32 chars), From tag (10),
// Via host and Contact user, instance id, and - the weak one - the Via branch of every client
// transaction: "z9hG4bK" + Math.floor(Math.random() * 1e7), only 10^7 values, so a few thousand
// transactions in flight share a branch with high probability (birthday bound: ~40% at 3,000), and a
// registrar or proxy that matches transactions by branch (RFC 3261 17.2.3) mixes them up.
//
// What is configurable is supplied per agent from the crypto pool of src/sip/random.ts: Call-ID and
// From tag (RegistererOptions.params), viaHost, contactName, sipjsId (UserAgentOptions) and the
// instance id. The branch is not configurable: ClientTransaction.makeId is a static method of an
// exported class, so it is replaced once, here, at load time (installStrongBranches), by a 96-bit
// crypto branch. The digest cnonce (createRandomToken(12), 60 bits of Math.random) stays: its module
// binding cannot be replaced from outside an ES module, and a cnonce only has to be unpredictable per
// client, not unique across agents.
import { randomUUID } from 'node:crypto';
import { Core } from 'sip.js';
import { newBranch, newCallId, newTag, randomHex } from '../sip/random.js';

export interface SoftphoneIds {
  callId: string;
  fromTag: string;
  /** Via sent-by host: a browser cannot know its address, so sip.js sends a random `.invalid` name. */
  viaHost: string;
  /** Contact user part. */
  contactName: string;
  /** sip.js prefixes its own Call-IDs with it; ours are supplied, but keep it unique too. */
  sipjsId: string;
  /** RFC 5626 +sip.instance (a UUID, as browsers persist one per installation). */
  instanceId: string;
}

export function softphoneIds(): SoftphoneIds {
  const viaHost = `${randomHex(6)}.invalid`;
  return {
    callId: newCallId(viaHost),
    fromTag: newTag(),
    viaHost,
    contactName: randomHex(6),
    sipjsId: randomHex(4),
    instanceId: randomUUID(),
  };
}

type MakeId = (request: { method: string; branch?: string }) => string;
let installed = false;

/**
 * Replaces sip.js's 10^7-value branch generator with a crypto one (idempotent; process-wide, which is
 * what the Math.random original was too). CANCEL keeps the branch of the request it cancels, as sip.js does.
 */
export function installStrongBranches(): void {
  if (installed) return;
  const target = Core.ClientTransaction as unknown as { makeId: MakeId };
  target.makeId = (request) => {
    if (request.method === 'CANCEL') {
      if (!request.branch) throw new Error('Outgoing CANCEL request without a branch.');
      return request.branch;
    }
    return newBranch();
  };
  installed = true;
}

/** The branch generator sip.js uses now (tests check it is the strong one). */
export function sipJsBranch(method = 'REGISTER'): string {
  return (Core.ClientTransaction as unknown as { makeId: MakeId }).makeId({ method });
}
