import type { ConfigProblem, ValidateContext } from '../../core/component.js';
import { bearerAuthProblems } from '../../core/bearer-auth.js';
import { parseDuration } from '../../core/config/duration.js';
import { credentialHeaderProblem } from '../../core/privacy.js';
import { serverTlsProblems } from '../../core/tls.js';
import type { OtlpReceiverConfig } from './config.js';
import { parseEndpoint } from './endpoint.js';

/** Everything create() and start() would refuse short of binding the ports, plus settings that would silently never work. */
export function validateOtlpReceiver(config: OtlpReceiverConfig, ctx: ValidateContext): ConfigProblem[] {
  const { grpc, http } = config.protocols;
  const problems: ConfigProblem[] = [];
  if (!grpc.enabled && !http.enabled) problems.push({ path: ['protocols'], message: 'protocols.grpc and protocols.http are both disabled; enable at least one' });
  if (grpc.enabled && parseEndpoint(grpc.endpoint).host === '') {
    problems.push({ path: ['protocols', 'grpc', 'endpoint'], message: `'${grpc.endpoint}' names no host, which gRPC cannot bind: write 0.0.0.0${grpc.endpoint} for every interface` });
  }
  if (grpc.enabled && http.enabled && parseEndpoint(grpc.endpoint).port !== 0 && parseEndpoint(grpc.endpoint).port === parseEndpoint(http.endpoint).port) {
    problems.push({ path: ['protocols', 'http', 'endpoint'], message: `port ${parseEndpoint(http.endpoint).port} is also protocols.grpc.endpoint's; gRPC and HTTP need a port each` });
  }
  if (http.enabled) {
    const seen = new Map<string, string>();
    for (const key of ['traces_url_path', 'metrics_url_path', 'logs_url_path'] as const) {
      const other = seen.get(http[key]);
      if (/[?#]/.test(http[key])) problems.push({ path: ['protocols', 'http', key], message: `'${http[key]}' holds a query or fragment, which request paths are matched without: it would never match` });
      if (other !== undefined) problems.push({ path: ['protocols', 'http', key], message: `'${http[key]}' is also ${other}: each signal needs its own path` });
      seen.set(http[key], key);
    }
  }
  for (const [name, p] of [['grpc', grpc], ['http', http]] as const) {
    if (p.enabled) problems.push(...serverTlsProblems(p.tls, ctx.configDir, ['protocols', name, 'tls']));
  }
  problems.push(...bearerAuthProblems(config.auth, ctx.env, ['auth']));
  for (const header of Object.keys(config.headers_to_resource_attributes)) {
    const message = credentialHeaderProblem(header);
    if (message !== '') problems.push({ path: ['headers_to_resource_attributes', header], message });
  }
  // A request larger than the whole in-flight budget could never be accepted: its client would retry forever.
  const largest = Math.max(grpc.enabled ? grpc.max_recv_msg_size_mib : 0, http.enabled ? http.max_request_body_size_mib : 0);
  if (config.max_in_flight_mib < largest) {
    problems.push({ path: ['max_in_flight_mib'], message: `${config.max_in_flight_mib} MiB is less than the largest accepted request (${largest} MiB): such a request would be refused forever` });
  }
  if (config.per_client.max_in_flight_mib < largest) {
    problems.push({ path: ['per_client', 'max_in_flight_mib'], message: `${config.per_client.max_in_flight_mib} MiB is less than the largest accepted request (${largest} MiB): such a request would be refused forever` });
  }
  if (http.enabled && parseDuration(http.read_header_timeout) > parseDuration(http.read_timeout)) {
    problems.push({ path: ['protocols', 'http', 'read_header_timeout'], message: `${http.read_header_timeout} is longer than read_timeout (${http.read_timeout}), which bounds headers and body together` });
  }
  return problems;
}
