import type { ComponentNeed, Factory } from './component.js';
import { COMPONENT_ID, SECTION_KIND, type PipelineConfig, type Section } from './config/types.js';
import type { PathSegment } from './config/yaml-source.js';

/** The order Graph.start brings sections up in: a component can only need one started before it or with it. */
export const START_ORDER: readonly Section[] = ['exporters', 'processors', 'receivers'];

export interface NeedProblem {
  section: Section;
  id: string;
  path: readonly PathSegment[];
  message: string;
}

function factoryOf(factories: readonly Factory[], section: Section, id: string): Factory | undefined {
  const type = COMPONENT_ID.exec(id)?.[1];
  return factories.find((f) => f.kind === SECTION_KIND[section] && f.type === type);
}

function usedIds(config: PipelineConfig, section: Section): Set<string> {
  return new Set(Object.values(config.service.pipelines).flatMap((p) => p[section]));
}

/** What the component `section`/`id` needs, as its factory reads it from its config ([] when it needs nothing). */
export function needsOf(config: PipelineConfig, factories: readonly Factory[], section: Section, id: string): ComponentNeed[] {
  const f = factoryOf(factories, section, id);
  return f?.needs && id in config[section] ? f.needs(config[section][id]) : [];
}

/** Every need of the components pipelines use that cannot be met, each at the path it is written at. */
export function needProblems(config: PipelineConfig, factories: readonly Factory[], skip: (section: Section, id: string) => boolean): NeedProblem[] {
  const problems: NeedProblem[] = [];
  for (const section of START_ORDER) {
    for (const id of usedIds(config, section)) {
      if (skip(section, id)) continue;
      for (const need of needsOf(config, factories, section, id)) {
        const message = unmet(config, factories, section, id, need);
        if (message) problems.push({ section, id, path: need.path, message });
      }
    }
    problems.push(...cycles(config, factories, section, skip));
  }
  return problems;
}

function unmet(config: PipelineConfig, factories: readonly Factory[], section: Section, id: string, need: ComponentNeed): string | undefined {
  const kind = SECTION_KIND[need.section];
  if (need.section === section && need.id === id) return `names itself ('${id}'): expected the id of another ${kind}`;
  if (!(need.id in config[need.section])) {
    return `names ${kind} '${need.id}', which is not declared; declared ${need.section}: ${Object.keys(config[need.section]).join(', ') || '(none)'}`;
  }
  if (!usedIds(config, need.section).has(need.id)) return `names ${kind} '${need.id}', which no pipeline uses, so it does not run: add it to a pipeline`;
  if (START_ORDER.indexOf(need.section) > START_ORDER.indexOf(section)) {
    return `names ${kind} '${need.id}', but ${need.section} start after ${section}`;
  }
  if (need.capability && !factoryOf(factories, need.section, need.id)?.provides?.includes(need.capability)) {
    const offering = Object.keys(config[need.section]).filter((x) => factoryOf(factories, need.section, x)?.provides?.includes(need.capability!));
    return `names ${kind} '${need.id}', which offers no ${need.capability}; ${need.section} that do: ${offering.join(', ') || '(none declared)'}`;
  }
  return undefined;
}

/** A component that needs itself through others can never start: each cycle is reported once, at its first member. */
function cycles(config: PipelineConfig, factories: readonly Factory[], section: Section, skip: (section: Section, id: string) => boolean): NeedProblem[] {
  const problems: NeedProblem[] = [];
  const done = new Set<string>();
  const visit = (id: string, trail: string[]): void => {
    if (done.has(id) || skip(section, id)) return;
    const at = trail.indexOf(id);
    if (at >= 0) {
      const cycle = [...trail.slice(at), id];
      const first = needsOf(config, factories, section, cycle[0]).find((n) => n.section === section && n.id === cycle[1]);
      problems.push({ section, id: cycle[0], path: first?.path ?? [], message: `needs form a cycle (${cycle.join(' → ')}): none of them could start first` });
      for (const member of cycle) done.add(member);
      return;
    }
    for (const n of needsOf(config, factories, section, id)) if (n.section === section && n.id !== id) visit(n.id, [...trail, id]);
    done.add(id);
  };
  for (const id of usedIds(config, section)) visit(id, []);
  return problems;
}

/**
 * `ids` reordered so that each comes after the ones of its own section it needs (otherwise in the
 * given order). Validation has refused cycles.
 */
export function startOrder(config: PipelineConfig, factories: readonly Factory[], section: Section, ids: readonly string[]): string[] {
  const out: string[] = [];
  const placed = new Set<string>();
  const place = (id: string, depth: number): void => {
    if (placed.has(id) || !ids.includes(id) || depth > ids.length) return;
    for (const n of needsOf(config, factories, section, id)) if (n.section === section) place(n.id, depth + 1);
    placed.add(id);
    out.push(id);
  };
  for (const id of ids) place(id, 0);
  return out;
}
