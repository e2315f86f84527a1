/** The user's model → provider map from pipeline.yaml: exact names, or prefixes written `name*`. */
export class ModelProviders {
  private readonly exact = new Map<string, string>();
  private readonly prefixes: [string, string][] = [];

  constructor(map: Record<string, string>) {
    for (const [k, v] of Object.entries(map)) {
      if (k.endsWith('*')) this.prefixes.push([k.slice(0, -1).toLowerCase(), v]);
      else this.exact.set(k.toLowerCase(), v);
    }
  }

  /** Provider for the raw or canonical model name, '' when the map does not know it. */
  lookup(modelRaw: string, model: string): string {
    if (this.exact.size === 0 && this.prefixes.length === 0) return '';
    const raw = modelRaw.toLowerCase();
    const hit = this.exact.get(raw) ?? this.exact.get(model);
    if (hit !== undefined) return hit;
    for (const [p, v] of this.prefixes) if (raw.startsWith(p) || model.startsWith(p)) return v;
    return '';
  }
}
