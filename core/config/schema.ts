import type { Factory } from '../component.js';
import { bearerAuthSchema } from '../bearer-auth.js';
import { serverTlsSchema } from '../tls.js';
import { durationSchema } from './duration.js';
import { COMPONENT_SECTIONS, SECTION_KIND } from './types.js';

const idList = (description: string, minItems: number) => ({
  type: 'array', items: { type: 'string' }, minItems, uniqueItems: true, description,
});

/** The service section, owned by core. */
const serviceSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['pipelines'],
  description: 'Which components run, and how they are connected.',
  properties: {
    pipelines: {
      type: 'object',
      minProperties: 1,
      description: 'Named pipelines: receivers feed processors in order, then every exporter.',
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['receivers', 'exporters'],
        properties: {
          receivers: idList('Receiver ids feeding this pipeline.', 1),
          processors: { ...idList('Processor ids, run in this order.', 0), default: [] },
          exporters: idList('Exporter ids; each receives every batch (fan-out).', 1),
        },
      },
    },
    extensions: { ...idList('Extension ids to run beside the pipelines (declared under `extensions:`).', 0), default: [] },
    telemetry: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: "tokenledger's own logs and admin server.",
      properties: {
        logs: {
          type: 'object', additionalProperties: false, default: {}, description: 'JSON lines on stderr.',
          properties: {
            level: { enum: ['debug', 'info', 'warn', 'error'], default: 'info', description: 'Minimum level of the JSON logs on stderr.' },
          },
        },
        admin: {
          type: 'object', additionalProperties: false, default: {}, description: 'The admin HTTP server.',
          properties: {
            endpoint: { type: 'string', format: 'host-port', default: '0.0.0.0:9464', description: 'Serves /metrics, /healthz and /readyz.' },
            tls: serverTlsSchema,
            auth: bearerAuthSchema('Bearer-token authentication of /metrics (`Authorization: Bearer <token>`); /healthz and /readyz stay open to probes. Off when no token is configured.'),
          },
        },
      },
    },
    shutdown_timeout: durationSchema('30s', 'How long a stop (SIGTERM, SIGINT) or reload may take to drain in-flight data.'),
  },
};

/** pipeline.schema.json: core's own sections plus each factory's schema under its component ids. */
export function composeSchema(factories: readonly Factory[]): Record<string, unknown> {
  const properties: Record<string, unknown> = { service: serviceSchema };
  for (const section of COMPONENT_SECTIONS) {
    const patternProperties: Record<string, unknown> = {};
    for (const f of factories.filter((x) => x.kind === SECTION_KIND[section])) {
      patternProperties[`^${f.type}(/[A-Za-z0-9_.-]+)?$`] = f.schema;
    }
    properties[section] = {
      type: 'object', additionalProperties: false, default: {}, patternProperties,
      description: `Declared ${section}, by id (\`type\` or \`type/name\`).`,
    };
  }
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: 'https://tokenledger.dev/schemas/pipeline.schema.json',
    title: 'tokenledger pipeline.yaml',
    type: 'object',
    additionalProperties: false,
    required: ['service'],
    properties,
  };
}
