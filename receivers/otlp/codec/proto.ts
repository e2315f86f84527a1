import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

/**
 * The OTLP message types, loaded once from schemas/otlp/*.proto with protobufjs reflection
 * (which generates the decode functions at load time). The schemas folder is found by walking up
 * from this file, so the same code works from the sources (tests) and from dist/.
 */
function schemasDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'schemas', 'otlp');
    if (existsSync(join(candidate, 'common.proto'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`schemas/otlp/*.proto not found above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

function loadRoot(): protobuf.Root {
  const dir = schemasDir();
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => join(dir, target);
  root.loadSync(['trace.proto', 'metrics.proto', 'logs.proto', 'status.proto'], { keepCase: false });
  root.resolveAll();
  return root;
}

const root = loadRoot();
const type = (name: string): protobuf.Type => root.lookupType(name);

export const messages = {
  traceRequest: type('opentelemetry.proto.trace.v1.ExportTraceServiceRequest'),
  metricsRequest: type('opentelemetry.proto.metrics.v1.ExportMetricsServiceRequest'),
  logsRequest: type('opentelemetry.proto.logs.v1.ExportLogsServiceRequest'),
  traceResponse: type('opentelemetry.proto.trace.v1.ExportTraceServiceResponse'),
  metricsResponse: type('opentelemetry.proto.metrics.v1.ExportMetricsServiceResponse'),
  logsResponse: type('opentelemetry.proto.logs.v1.ExportLogsServiceResponse'),
  status: type('google.rpc.Status'),
  retryInfo: type('google.rpc.RetryInfo'),
} as const;
