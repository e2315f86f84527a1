import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { bearerAuthProblems } from '../bearer-auth.js';
import type { ConfigProblem, Factory, ValidateContext } from '../component.js';
import { needProblems } from '../needs.js';
import { serverTlsProblems } from '../tls.js';
import { createAjv, explain } from './ajv.js';
import { ConfigError, UnreadableConfigError, type Diagnostic } from './diagnostic.js';
import { composeSchema } from './schema.js';
import { COMPONENT_ID, COMPONENT_SECTIONS, SECTION_KIND, SECTIONS, type ComponentSection, type PipelineConfig } from './types.js';
import { formatPath, YamlSource, type PathSegment } from './yaml-source.js';

export interface LoadedConfig {
  config: PipelineConfig;
  /** Warnings (e.g. a declared but unused component); errors throw a ConfigError instead. */
  warnings: Diagnostic[];
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads, expands, validates and defaults pipeline.yaml. Throws ConfigError with every problem found. */
export function loadConfigFile(file: string, factories: readonly Factory[], env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UnreadableConfigError([{ severity: 'error', file, line: 0, col: 0, path: '', message: `cannot read: ${(err as Error).message}` }]);
  }
  return loadConfigText(text, file, factories, env);
}

export function loadConfigText(text: string, file: string, factories: readonly Factory[], env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  const src = new YamlSource(file, text);
  if (src.diagnostics.length === 0) src.expandEnv(env);
  if (src.diagnostics.length) throw new ConfigError(src.diagnostics);

  const data = src.toJS();
  if (!isObject(data)) {
    src.push('error', [], '', `expected a mapping with receivers, processors, exporters and service, found ${data === null || data === undefined ? 'an empty file' : typeof data}`);
    throw new ConfigError(src.diagnostics);
  }
  checkComponentIds(src, data, factories);
  const invalid = validateSchema(src, data, factories);
  const ctx: Omit<ValidateContext, 'id'> = { configDir: dirname(resolve(file)), env };
  validateComponents(src, data, factories, invalid, ctx);
  if (!invalid.has('') && !invalid.has('service')) validateService(src, data as unknown as PipelineConfig, ctx);
  if (pipelinesWellFormed(data)) {
    checkPipelines(src, data as unknown as PipelineConfig);
    validateInstances(src, data as unknown as PipelineConfig, factories, invalid, ctx);
    for (const p of needProblems(data as unknown as PipelineConfig, factories, (section, id) => invalid.has(`${section}/${id}`) || !(id in (data[section] as Json)))) {
      report(src, [p.section, p.id], [p]);
    }
  }
  if (src.diagnostics.some((d) => d.severity === 'error')) throw new ConfigError(src.diagnostics);
  return { config: data as unknown as PipelineConfig, warnings: src.diagnostics };
}

/** Unknown types get their own message listing the known ones; they are removed so ajv does not report them again. */
function checkComponentIds(src: YamlSource, data: Json, factories: readonly Factory[]): void {
  for (const section of COMPONENT_SECTIONS) {
    const block = data[section];
    if (block === null || block === undefined) { data[section] = {}; continue; }
    if (!isObject(block)) continue; // ajv reports the wrong type
    const known = factories.filter((f) => f.kind === SECTION_KIND[section]).map((f) => f.type);
    for (const id of Object.keys(block)) {
      const type = COMPONENT_ID.exec(id)?.[1];
      if (type && known.includes(type)) {
        // Defaults are applied once, by ajv from the schema (factory.defaults equals them: config-defaults.test.ts).
        block[id] ??= {};
        continue;
      }
      const reason = type
        ? `unknown ${SECTION_KIND[section]} type '${type}'; known types: ${known.join(', ') || '(none)'}`
        : `bad component id '${id}': expected 'type' or 'type/name' (lowercase type, name of letters, digits, _ . -)`;
      src.push('error', [section], formatPath([section, id]), reason, id);
      delete block[id];
    }
  }
}

const schemaCache = new WeakMap<readonly Factory[], ReturnType<ReturnType<typeof createAjv>['compile']>>();

/** Returns the top-level key and `section/id` of every block with a schema error ('' for the root): those are not validated further. */
function validateSchema(src: YamlSource, data: Json, factories: readonly Factory[]): Set<string> {
  let validate = schemaCache.get(factories);
  if (!validate) {
    validate = createAjv().compile(composeSchema(factories));
    schemaCache.set(factories, validate);
  }
  const invalid = new Set<string>();
  if (validate(data)) return invalid;
  for (const err of validate.errors ?? []) {
    const segments = pointerSegments(err.instancePath);
    const key = err.keyword === 'additionalProperties' ? String(err.params.additionalProperty) : undefined;
    src.push('error', segments, formatPath(key ? [...segments, key] : segments), explain(err), key);
    invalid.add(segments.length ? String(segments[0]) : '');
    if (segments.length >= 2) invalid.add(`${segments[0]}/${segments[1]}`);
  }
  return invalid;
}

/** Each schema-valid component block through its factory's validate step; problems are located like schema errors. */
function validateComponents(src: YamlSource, data: Json, factories: readonly Factory[], invalid: Set<string>, ctx: Omit<ValidateContext, 'id'>): void {
  for (const section of COMPONENT_SECTIONS) {
    const block = data[section];
    if (!isObject(block)) continue;
    for (const [id, config] of Object.entries(block)) {
      if (invalid.has(`${section}/${id}`)) continue;
      const factory = factories.find((f) => f.kind === SECTION_KIND[section] && f.type === COMPONENT_ID.exec(id)?.[1]);
      if (!factory?.validate) continue;
      report(src, [section, id], guarded(() => factory.validate!(config, { ...ctx, id }), {}));
    }
  }
}

/** Each factory's checks across the instances of its type that pipelines use. */
function validateInstances(src: YamlSource, config: PipelineConfig, factories: readonly Factory[], invalid: Set<string>, ctx: Omit<ValidateContext, 'id'>): void {
  for (const section of COMPONENT_SECTIONS) {
    const used = usedIds(config, section);
    for (const factory of factories.filter((f) => f.kind === SECTION_KIND[section] && f.validateInstances)) {
      const instances = [...used]
        .filter((id) => id in config[section] && !invalid.has(`${section}/${id}`) && COMPONENT_ID.exec(id)?.[1] === factory.type)
        .map((id) => ({ id, config: config[section][id] }));
      if (instances.length < 2) continue;
      for (const { id, ...problem } of guarded(() => factory.validateInstances!(instances, ctx), { id: instances[0].id })) report(src, [section, id], [problem]);
    }
  }
}

/** The ids of a section that run: named by a pipeline, or (extensions) by `service.extensions`. */
function usedIds(config: PipelineConfig, section: ComponentSection): Set<string> {
  if (section === 'extensions') return new Set(config.service.extensions);
  return new Set(Object.values(config.service.pipelines).flatMap((p) => p[section]));
}

/** Core's own checks beyond the schema: the admin server's TLS files and tokens. */
function validateService(src: YamlSource, config: PipelineConfig, ctx: Omit<ValidateContext, 'id'>): void {
  const admin = config.service.telemetry.admin;
  report(src, ['service', 'telemetry', 'admin'], [
    ...serverTlsProblems(admin.tls, ctx.configDir, ['tls']),
    ...bearerAuthProblems(admin.auth, ctx.env, ['auth']),
  ]);
}

/** A bug in a validate step must still end in a diagnostic at the component, not in a stack trace. */
function guarded<T extends object>(check: () => (ConfigProblem & T)[], at: T): (ConfigProblem & T)[] {
  try {
    return check();
  } catch (err) {
    return [{ ...at, path: [], message: `validation failed: ${(err as Error).message}` }];
  }
}

function report(src: YamlSource, at: PathSegment[], problems: ConfigProblem[]): void {
  for (const p of problems) {
    const path = [...at, ...p.path];
    src.push('error', path, formatPath(path), p.message);
  }
}

function pointerSegments(pointer: string): PathSegment[] {
  if (!pointer) return [];
  return pointer.slice(1).split('/').map((s) => {
    const seg = s.replace(/~1/g, '/').replace(/~0/g, '~');
    return /^[0-9]+$/.test(seg) ? Number(seg) : seg;
  });
}

/** Pipeline references can be checked whenever the pipelines themselves have the right shape, whatever else is wrong. */
function pipelinesWellFormed(data: Json): boolean {
  const service = data.service;
  if (!isObject(service) || !isObject(service.pipelines)) return false;
  return Object.values(service.pipelines).every((p) => isObject(p) && SECTIONS.every((s) => Array.isArray(p[s]) && p[s].every((id) => typeof id === 'string')))
    && COMPONENT_SECTIONS.every((s) => isObject(data[s]))
    && Array.isArray(service.extensions) && service.extensions.every((id) => typeof id === 'string');
}

function checkPipelines(src: YamlSource, config: PipelineConfig): void {
  const used = new Set<string>();
  for (const [name, spec] of Object.entries(config.service.pipelines)) {
    for (const section of SECTIONS) {
      spec[section].forEach((id, i) => {
        used.add(`${section}:${id}`);
        if (id in config[section]) return;
        const path = ['service', 'pipelines', name, section, i];
        const elsewhere = SECTIONS.filter((s) => s !== section && id in config[s]);
        const hint = elsewhere.length
          ? `; '${id}' is declared under ${elsewhere.join(', ')}, not ${section}`
          : `; declared ${section}: ${Object.keys(config[section]).join(', ') || '(none)'}`;
        src.push('error', path, formatPath(path), `pipeline '${name}' names ${SECTION_KIND[section]} '${id}', which is not declared${hint}`);
      });
    }
  }
  config.service.extensions.forEach((id, i) => {
    used.add(`extensions:${id}`);
    if (id in config.extensions) return;
    const path = ['service', 'extensions', i];
    src.push('error', path, formatPath(path), `service.extensions names extension '${id}', which is not declared; declared extensions: ${Object.keys(config.extensions).join(', ') || '(none)'}`);
  });
  for (const section of COMPONENT_SECTIONS) {
    for (const id of Object.keys(config[section])) {
      if (!used.has(`${section}:${id}`)) {
        const unused = section === 'extensions' ? 'not listed in service.extensions' : 'used by no pipeline';
        src.push('warning', [section], formatPath([section, id]), `${SECTION_KIND[section]} '${id}' is declared but ${unused}`, id);
      }
    }
  }
}
