// What the core and softphone run paths share before their load starts: the run's identities, and the
// embedded trunk started for a run without a target (accepting exactly those identities).
import type { AgentIdentity } from '../sip/agent.js';
import type { TrunkOptions } from '../trunk/config.js';
import { EmbeddedTrunk, type TrunkStartOptions } from '../trunk/server.js';
import { DEFAULT_PASSWORD_TEMPLATE, DEFAULT_USER_TEMPLATE, identitiesFromCsv, identitiesFromTemplates } from './identities.js';

export interface IdentitySource {
  agents: number;
  userTemplate: string;
  passwordTemplate: string;
  credentialsFile?: string;
  trunk?: Partial<TrunkOptions>;
}

/** The first `agents` identities from the CSV file or the templates. */
export function runIdentities(request: IdentitySource, domain: string): AgentIdentity[] {
  const all = request.credentialsFile
    ? identitiesFromCsv(request.credentialsFile, domain)
    : identitiesFromTemplates(request.agents, request.userTemplate, request.passwordTemplate, domain);
  return request.agents < all.length ? all.slice(0, request.agents) : all;
}

/** An embedded trunk for the run: its `trunk:` switches, and the run's credentials unless they are the defaults it knows. */
export function startRunTrunk(request: IdentitySource, identities: readonly AgentIdentity[], transports?: TrunkStartOptions['transports']): Promise<EmbeddedTrunk> {
  const defaultCredentials = !request.credentialsFile && request.userTemplate === DEFAULT_USER_TEMPLATE && request.passwordTemplate === DEFAULT_PASSWORD_TEMPLATE;
  return EmbeddedTrunk.start({
    port: 0,
    users: request.agents,
    minExpires: 1,
    ...request.trunk,
    ...(transports ? { transports } : {}),
    ...(defaultCredentials ? {} : { credentials: identities.map(({ user, password }) => ({ user, password })) }),
  });
}
