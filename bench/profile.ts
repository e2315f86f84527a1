import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Top self-time functions of the .cpuprofile files `node --cpu-prof` wrote into `dir`. */

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }[];
  startTime: number;
  endTime: number;
}

export interface HotFunction { name: string; where: string; selfMs: number; selfPct: number }

export function topSelfTime(dir: string, repo: string, top = 15): HotFunction[] {
  const self = new Map<string, { name: string; where: string; hits: number }>();
  let total = 0;
  let msPerHit = 0;
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
    const p = JSON.parse(readFileSync(join(dir, f), 'utf8')) as CpuProfile;
    let hits = 0;
    for (const n of p.nodes) {
      const h = n.hitCount ?? 0;
      if (h === 0) continue;
      hits += h;
      const { functionName, url, lineNumber } = n.callFrame;
      const where = url ? `${url.startsWith('file://') ? relative(repo, url.slice(7)) : url}:${lineNumber + 1}` : '';
      const key = `${functionName}@${where}`;
      const e = self.get(key) ?? { name: functionName || '(anonymous)', where, hits: 0 };
      e.hits += h;
      self.set(key, e);
    }
    total += hits;
    if (hits > 0) msPerHit = (p.endTime - p.startTime) / 1000 / hits;
  }
  return [...self.values()].sort((a, b) => b.hits - a.hits).slice(0, top)
    .map((e) => ({ name: e.name, where: e.where, selfMs: Math.round(e.hits * msPerHit), selfPct: Math.round((1000 * e.hits) / total) / 10 }));
}
