/** What varies between the pipeline.yaml files of the CLI tests that run the shipped components. */
export interface HttpPipelineYaml {
  /** OTLP/HTTP port (gRPC off). */
  http: number;
  admin: number;
  /** The exporters section's body, indented by two spaces. */
  exporters: string;
  /** Pipeline name → its exporter ids; every pipeline runs otlp → claude-normalizer → cost-enrichment. */
  pipelines: Record<string, string[]>;
  /** Keys of claude-normalizer's block, each line indented by four spaces. */
  normalizer?: string;
}

/** A pipeline.yaml: OTLP/HTTP on 127.0.0.1, the normalizer and pricing, the given exporters and pipelines, the admin server. */
export function httpPipelineYaml(p: HttpPipelineYaml): string {
  const pipelines = Object.entries(p.pipelines).map(([name, exporters]) =>
    `    ${name}: { receivers: [otlp], processors: [claude-normalizer, cost-enrichment], exporters: [${exporters.join(', ')}] }`).join('\n');
  return `receivers:
  otlp:
    protocols:
      grpc: { enabled: false }
      http: { endpoint: 127.0.0.1:${p.http} }
processors:
  claude-normalizer:${p.normalizer === undefined ? '' : `\n${p.normalizer}`}
  cost-enrichment:
exporters:
${p.exporters}
service:
  pipelines:
${pipelines}
  telemetry: { admin: { endpoint: 127.0.0.1:${p.admin} } }
`;
}
