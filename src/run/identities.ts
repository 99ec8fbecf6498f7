// Agent identities: from user/password templates (default agent{n:4}/secret{n:4}, the same the
// embedded trunk and the bundled Kamailio accept) or from a CSV file `user,password[,domain]`.
import { readFileSync } from 'node:fs';
import { expandTemplate } from '../shared/credentials.js';
import type { AgentIdentity } from '../sip/agent.js';

export const DEFAULT_USER_TEMPLATE = 'agent{n:4}';
export const DEFAULT_PASSWORD_TEMPLATE = 'secret{n:4}';

export function identitiesFromTemplates(count: number, userTemplate: string, passwordTemplate: string, domain: string): AgentIdentity[] {
  const identities: AgentIdentity[] = new Array(count);
  for (let i = 0; i < count; i++) {
    identities[i] = { user: expandTemplate(userTemplate, i), password: expandTemplate(passwordTemplate, i), domain };
  }
  return identities;
}

/** Reads `user,password[,domain]` lines; '#' comments and a `user,password` header line are skipped. */
export function identitiesFromCsv(path: string, defaultDomain: string): AgentIdentity[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`${path}: cannot read credentials file (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  const identities: AgentIdentity[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '' || line.startsWith('#')) continue;
    const fields = line.split(',').map((f) => f.trim());
    if (i === 0 && fields[0].toLowerCase() === 'user') continue;
    if (fields.length < 2 || fields.length > 3 || !fields[0] || !fields[1]) {
      // The line number but never the line itself: it holds a password.
      throw new Error(`${path}:${i + 1}: expected user,password[,domain] (${fields.length} field(s) found)`);
    }
    if (/[\s<>"@;]/.test(fields[0])) throw new Error(`${path}:${i + 1}: user "${fields[0]}" has characters not allowed in a SIP user part`);
    identities.push({ user: fields[0], password: fields[1], domain: fields[2] || defaultDomain });
  }
  if (identities.length === 0) throw new Error(`${path}: no credentials found`);
  return identities;
}
