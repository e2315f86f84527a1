import type { BearerAuthConfig } from '../bearer-auth.js';
import type { LogLevel } from '../logger.js';
import type { ServerTlsConfig } from '../tls.js';

export interface PipelineSpec {
  receivers: string[];
  processors: string[];
  exporters: string[];
}

export interface AdminConfig {
  endpoint: string;
  tls?: ServerTlsConfig;
  auth: BearerAuthConfig;
}

/** pipeline.yaml after env expansion, defaults and validation. Component configs are per factory. */
export interface PipelineConfig {
  receivers: Record<string, unknown>;
  processors: Record<string, unknown>;
  exporters: Record<string, unknown>;
  extensions: Record<string, unknown>;
  service: {
    pipelines: Record<string, PipelineSpec>;
    /** Extension ids to run (started after the exporters, whose capabilities they may use). */
    extensions: string[];
    telemetry: { logs: { level: LogLevel }; admin: AdminConfig };
    shutdown_timeout: string;
  };
}

/** The sections pipelines name. */
export const SECTIONS = ['receivers', 'processors', 'exporters'] as const;
export type Section = (typeof SECTIONS)[number];
/** Every section that declares components: the pipeline sections plus `extensions` (run by `service.extensions`, outside pipelines). */
export const COMPONENT_SECTIONS = [...SECTIONS, 'extensions'] as const;
export type ComponentSection = (typeof COMPONENT_SECTIONS)[number];
export const SECTION_KIND = { receivers: 'receiver', processors: 'processor', exporters: 'exporter', extensions: 'extension' } as const;

/** `type` or `type/name`. */
export const COMPONENT_ID = /^([a-z][a-z0-9_-]*)(?:\/([A-Za-z0-9_.-]+))?$/;

export function componentType(id: string): string {
  return COMPONENT_ID.exec(id)?.[1] ?? id;
}
