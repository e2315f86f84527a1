import { componentType } from '../../core/config/types.js';

/** One id of a type in a section: the one asked for, else the first; an error line when there is none. */
export function pickComponent(section: Record<string, unknown>, type: string, wanted: string | undefined, what: string): string | Error {
  const ids = Object.keys(section).filter((id) => componentType(id) === type);
  const id = wanted ?? ids[0];
  if (id && ids.includes(id)) return id;
  return new Error(`${wanted ? `no ${what} '${wanted}'` : `no ${what}`} (${what}s: ${ids.join(', ') || 'none'})`);
}
