import type { Batch } from '../../../core/batch.js';
import { defaults, type OtlpReceiverConfig } from '../../../receivers/otlp/config.js';
import { OtlpReceiver } from '../../../receivers/otlp/receiver.js';
import { testReceiverContext } from '../../helpers/context.js';

export type Overrides = Partial<Omit<OtlpReceiverConfig, 'protocols'>> & {
  grpc?: Partial<OtlpReceiverConfig['protocols']['grpc']>;
  http?: Partial<OtlpReceiverConfig['protocols']['http']>;
};

/** A started OTLP receiver on ephemeral loopback ports, its context, and its addresses. */
export async function startReceiver(overrides: Overrides = {}, consume?: (b: Batch) => Promise<void>, env: NodeJS.ProcessEnv = {}) {
  const { grpc, http, ...rest } = overrides;
  const config: OtlpReceiverConfig = {
    ...structuredClone(defaults),
    ...rest,
    protocols: {
      grpc: { ...structuredClone(defaults.protocols.grpc), endpoint: '127.0.0.1:0', ...grpc },
      http: { ...structuredClone(defaults.protocols.http), endpoint: '127.0.0.1:0', ...http },
    },
  };
  const ctx = testReceiverContext('otlp/test', consume);
  const receiver = new OtlpReceiver(config, ctx, env);
  await receiver.start();
  const { grpc: g, http: h } = receiver.addresses();
  return {
    receiver,
    ctx,
    httpUrl: h ? `http://127.0.0.1:${h.port}` : '',
    grpcUrl: g ? `http://127.0.0.1:${g.port}` : '',
    grpcTarget: g ? `127.0.0.1:${g.port}` : '',
  };
}

export type Started = Awaited<ReturnType<typeof startReceiver>>;

/** Resolves after `ms`. */
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
