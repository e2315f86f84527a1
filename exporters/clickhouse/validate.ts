import { accessSync, constants } from 'node:fs';
import { resolve } from 'node:path';
import type { ConfigProblem, ValidateContext } from '../../core/component.js';
import type { ClickhouseConfig } from './config.js';

/** Settings the client would silently ignore, or that the engine refuses only once it runs. */
export function validateClickhouse(config: ClickhouseConfig, ctx: ValidateContext): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (config.mode === 'embedded' && config.cluster !== undefined) {
    problems.push({ path: ['cluster'], message: 'a cluster needs mode: server; embedded chDB is one local database' });
  }
  const tls = config.tls;
  if (tls === undefined) return problems;
  if (config.mode === 'embedded' || !config.url.startsWith('https:')) {
    problems.push({ path: ['tls'], message: `tls applies only to mode: server with an https:// url (${config.mode === 'embedded' ? 'mode is embedded' : `url is ${config.url}`})` });
  }
  if (tls.ca_file === undefined && (tls.cert_file !== undefined || tls.key_file !== undefined)) {
    problems.push({ path: ['tls'], message: 'a client certificate needs ca_file too (the ClickHouse client uses cert_file and key_file only with a CA)' });
  }
  if ((tls.cert_file === undefined) !== (tls.key_file === undefined)) {
    problems.push({ path: ['tls', tls.cert_file === undefined ? 'key_file' : 'cert_file'], message: 'cert_file and key_file go together (mutual TLS)' });
  }
  for (const field of ['ca_file', 'cert_file', 'key_file'] as const) {
    const file = tls[field];
    if (file === undefined) continue;
    try {
      accessSync(resolve(ctx.configDir, file), constants.R_OK);
    } catch (err) {
      problems.push({ path: ['tls', field], message: `cannot read ${resolve(ctx.configDir, file)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
    }
  }
  return problems;
}

/** chDB opens one data directory per process, and a disk queue directory belongs to one exporter. */
export function validateClickhouseInstances(instances: { id: string; config: ClickhouseConfig }[], ctx: Omit<ValidateContext, 'id'>): (ConfigProblem & { id: string })[] {
  const problems: (ConfigProblem & { id: string })[] = [];
  const embedded = instances.filter((i) => i.config.mode === 'embedded');
  for (const { id, config } of embedded.slice(1)) {
    if (resolve(ctx.configDir, config.path) !== resolve(ctx.configDir, embedded[0].config.path)) {
      problems.push({ id, path: ['path'], message: `'${config.path}' differs from ${embedded[0].id}'s '${embedded[0].config.path}': chDB opens one data directory per process, so embedded exporters must share one path (use distinct tables)` });
    }
  }
  const queues = new Map<string, string>();
  for (const { id, config } of instances) {
    if (config.queue.type !== 'disk') continue;
    const dir = resolve(ctx.configDir, config.queue.path);
    const owner = queues.get(dir);
    if (owner !== undefined) problems.push({ id, path: ['queue', 'path'], message: `${dir} is also ${owner}'s disk queue: give each exporter its own queue.path` });
    else queues.set(dir, id);
  }
  return problems;
}
