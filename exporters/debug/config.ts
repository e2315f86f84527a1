export interface DebugExporterConfig {
  verbosity: 'basic' | 'normal' | 'detailed';
}

export const defaults: DebugExporterConfig = { verbosity: 'normal' };

export const schema = {
  type: 'object',
  additionalProperties: false,
  description: 'Prints what reaches it on stdout, one JSON object a line. For editing pipeline.yaml.',
  properties: {
    verbosity: {
      enum: ['basic', 'normal', 'detailed'], default: 'normal',
      description: 'basic: one summary line per batch; normal: every LlmCall; detailed: decoded telemetry too.',
    },
  },
};
