// Name and version for User-Agent and the result's `tool` block, read once from package.json.
import { readFileSync } from 'node:fs';

function findVersion(): string {
  for (const rel of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'sipstorm' && pkg.version) return pkg.version;
    } catch {
      // try the next layout (src/ under vitest, dist/src/ when built)
    }
  }
  return '0.0.0';
}

export const TOOL = { name: 'sipstorm', version: findVersion() } as const;
