import { isMap, isScalar, isSeq, LineCounter, parse, parseDocument, visit, type Document, type Node } from 'yaml';
import type { Diagnostic } from './diagnostic.js';
import { expandEnv } from './env.js';

export type PathSegment = string | number;

/** `exporters.clickhouse/archive.endpoint`, `service.pipelines.llm.receivers[1]`. */
export function formatPath(segments: readonly PathSegment[]): string {
  let out = '';
  for (const s of segments) out += typeof s === 'number' ? `[${s}]` : out ? `.${s}` : s;
  return out;
}

/** A parsed YAML file that can say where any path of it stands. */
export class YamlSource {
  readonly diagnostics: Diagnostic[] = [];
  private readonly lines = new LineCounter();
  readonly doc: Document.Parsed;

  constructor(readonly file: string, text: string) {
    this.doc = parseDocument(text, { lineCounter: this.lines, uniqueKeys: true, prettyErrors: false });
    for (const err of this.doc.errors) {
      const { line, col } = this.lines.linePos(err.pos[0]);
      this.diagnostics.push({ severity: 'error', file, line, col, path: '', message: `invalid YAML: ${err.message.split('\n')[0]}` });
    }
  }

  /** Replaces `${env:…}` references in scalar values; a whole-value reference takes the YAML type of what it expands to. */
  expandEnv(env: NodeJS.ProcessEnv): void {
    visit(this.doc, {
      Scalar: (key, node) => {
        if (key === 'key' || typeof node.value !== 'string') return;
        const raw = node.value;
        const { value, errors } = expandEnv(raw, env);
        for (const message of errors) this.push('error', node.range?.[0] ?? 0, '', message);
        if (value === raw) return;
        node.value = /^\$\{[^}]*\}$/.test(raw) ? typedScalar(value) : value;
      },
    });
  }

  toJS(): unknown {
    return this.doc.toJS();
  }

  /** Position of the deepest node that exists along `segments`; of a map key when `key` is given. */
  locate(segments: readonly PathSegment[], key?: string): { line: number; col: number } {
    let node: Node | null = this.doc.contents;
    let offset = node?.range?.[0] ?? 0;
    for (const seg of key === undefined ? segments : [...segments, key]) {
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
        if (!pair) break;
        const keyNode = pair.key as Node;
        const isLast = key !== undefined && seg === key;
        offset = (isLast ? keyNode.range?.[0] : (pair.value as Node | null)?.range?.[0] ?? keyNode.range?.[0]) ?? offset;
        node = isLast ? keyNode : (pair.value as Node | null);
      } else if (isSeq(node)) {
        const item = node.items[Number(seg)] as Node | undefined;
        if (!item) break;
        offset = item.range?.[0] ?? offset;
        node = item;
      } else break;
    }
    return this.lines.linePos(offset);
  }

  push(severity: Diagnostic['severity'], offsetOrPath: number | readonly PathSegment[], path: string, message: string, key?: string): void {
    const { line, col } = typeof offsetOrPath === 'number' ? this.lines.linePos(offsetOrPath) : this.locate(offsetOrPath, key);
    this.diagnostics.push({ severity, file: this.file, line, col, path, message });
  }
}

function typedScalar(text: string): unknown {
  try {
    const v: unknown = parse(text);
    return v === null || typeof v === 'object' ? text : v;
  } catch {
    return text; // not a YAML scalar on its own (e.g. contains ': '): keep the text as the user wrote it
  }
}
