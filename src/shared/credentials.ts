// Default credentials shared by the client, the embedded trunk and the bundled Kamailio:
// agent0000/secret0000 ... zero-padded to 4 digits, wider past 9999.

/** Expands `{n}` / `{n:W}` (agent number, zero-padded to W digits) in a template. */
export function expandTemplate(template: string, n: number): string {
  return template.replace(/\{n(?::(\d+))?\}/g, (_m, width: string | undefined) => String(n).padStart(width ? Number(width) : 0, '0'));
}

export function defaultCredentials(count: number, userTemplate = 'agent{n:4}', passwordTemplate = 'secret{n:4}'): { user: string; password: string }[] {
  const out: { user: string; password: string }[] = new Array(count);
  for (let i = 0; i < count; i++) out[i] = { user: expandTemplate(userTemplate, i), password: expandTemplate(passwordTemplate, i) };
  return out;
}
