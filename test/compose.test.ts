// docker-compose.yml cannot run here (no Docker engine): check what can be checked without one.
// Service names, published ports, mounted files that must exist, and that the kamailio image runs
// the same kamailio.cfg, with the same defines, as the native runner (src/kamailio/server.ts).
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { defaultConfigPath } from '../src/kamailio/server.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as {
  services: Record<string, { build?: string | { context: string; dockerfile?: string }; ports?: string[]; volumes?: string[]; command?: string[]; depends_on?: Record<string, { condition: string }> }>;
};

function dockerfileOf(name: string): string {
  const build = compose.services[name].build!;
  const context = typeof build === 'string' ? build : build.context;
  const file = typeof build === 'string' ? 'Dockerfile' : (build.dockerfile ?? 'Dockerfile');
  return resolve(ROOT, context, file);
}

describe('docker-compose.yml', () => {
  it('has the kamailio and sipstorm services', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['kamailio', 'sipstorm']);
  });

  it('publishes Kamailio on loopback: SIP 5060 over UDP and TCP, JSON-RPC on 8080, TLS 5061, WS 8088, WSS 8443', () => {
    expect(compose.services.kamailio.ports?.sort()).toEqual([
      '127.0.0.1:5060:5060/tcp', '127.0.0.1:5060:5060/udp', '127.0.0.1:5061:5061/tcp', '127.0.0.1:8080:8080/tcp', '127.0.0.1:8088:8088/tcp', '127.0.0.1:8443:8443/tcp',
    ]);
  });

  it('mounts files that exist, and the kamailio service runs the native runner\'s kamailio.cfg', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      for (const volume of service.volumes ?? []) {
        const host = volume.split(':')[0];
        expect(host.startsWith('./'), `${name}: ${volume} is a relative host path`).toBe(true);
        // ./results is created by the run; everything else must be in the repository.
        if (host !== './results') expect(existsSync(resolve(ROOT, host)), `${name}: ${host} exists`).toBe(true);
      }
    }
    const cfgMount = compose.services.kamailio.volumes?.find((v) => v.includes('kamailio.cfg'));
    expect(cfgMount).toBeDefined();
    const [host, container] = cfgMount!.split(':');
    expect(resolve(ROOT, host)).toBe(defaultConfigPath());
    expect(statSync(defaultConfigPath()).isFile()).toBe(true);
    // The image's command loads the mounted file.
    expect(readFileSync(dockerfileOf('kamailio'), 'utf8')).toContain(`-f ${container}`);
  });

  it('the kamailio image: bookworm packages, foreground, enough shared memory, the same defines', () => {
    const dockerfile = readFileSync(dockerfileOf('kamailio'), 'utf8');
    expect(dockerfile).toMatch(/^FROM debian:bookworm/m);
    expect(dockerfile).toMatch(/apt-get install[^\n]*kamailio kamailio-websocket-modules kamailio-tls-modules/);
    expect(dockerfile).toContain('-DD -E');
    expect(dockerfile).toMatch(/SHARED_MEMORY_MB=1024/);
    for (const define of ['USERS', 'HTTP_PORT', 'NONCE_TTL', 'WS_PORT', 'WSS_PORT']) expect(dockerfile).toContain(`-A \\"${define}=`);
    // TLS: the certificate is made when the container starts, never baked into the image.
    expect(dockerfile).toContain(`-A 'TLS_CFG=\\"/tmp/tls/tls.cfg\\"'`);
    expect(dockerfile).not.toMatch(/^RUN .*openssl req/m);
    // Every define the config reads is one the runners pass (or has a default in the config).
    const cfg = readFileSync(defaultConfigPath(), 'utf8');
    for (const define of ['USERS', 'HTTP_PORT', 'NONCE_TTL', 'MIN_EXPIRES', 'WS_PORT', 'WSS_PORT']) expect(cfg).toContain(`#!ifndef ${define}`);
    expect(cfg).toContain('#!ifdef TLS_CFG');
  });

  it('the sipstorm service runs a scenario against the kamailio service once it is healthy', () => {
    const s = compose.services.sipstorm;
    expect(s.depends_on?.kamailio.condition).toBe('service_healthy');
    expect(readFileSync(dockerfileOf('kamailio'), 'utf8')).toMatch(/^HEALTHCHECK /m);
    const command = s.command ?? [];
    expect(command[0]).toBe('run');
    expect(command[command.indexOf('--target') + 1]).toBe('udp:kamailio:5060');
    const dockerfile = readFileSync(dockerfileOf('sipstorm'), 'utf8');
    expect(dockerfile).toMatch(/^FROM node:20-bookworm/m);
    expect(dockerfile).toMatch(/ENTRYPOINT \["node", "\/app\/bin\/sipstorm\.js"\]/);
    for (const copied of ['bin', 'src', 'bench', 'docker']) {
      expect(dockerfile).toContain(`COPY ${copied} ./${copied}`);
      expect(existsSync(join(ROOT, copied)), `${copied} exists for COPY`).toBe(true);
    }
  });
});
