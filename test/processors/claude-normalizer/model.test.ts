import { describe, expect, it } from 'vitest';
import { canonicalProvider, hostOf, parseModel, regionOfHost } from '../../../processors/claude-normalizer/model.js';

describe('parseModel', () => {
  it.each([
    ['claude-sonnet-4-5-20250929', 'claude-sonnet-4-5', 'anthropic', ''],
    ['anthropic/claude-sonnet-4-5-20250929', 'claude-sonnet-4-5', 'anthropic', ''],
    ['bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0', 'claude-sonnet-4-5', 'aws.bedrock', 'us'],
    ['bedrock/converse/eu.anthropic.claude-3-7-sonnet-20250219-v1:0', 'claude-3-7-sonnet', 'aws.bedrock', 'eu'],
    ['invoke/us.anthropic.claude-haiku-4-5-20251001-v1:0', 'claude-haiku-4-5', 'aws.bedrock', 'us'],
    ['global.anthropic.claude-sonnet-4-5-20250929-v1:0', 'claude-sonnet-4-5', 'aws.bedrock', 'global'],
    ['anthropic.claude-3-5-sonnet-20241022-v2:0', 'claude-3-5-sonnet', 'aws.bedrock', ''],
    ['apac.anthropic.claude-3-5-sonnet-20240620-v1:0', 'claude-3-5-sonnet', 'aws.bedrock', 'apac'],
    ['arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-sonnet-4-5-20250929-v1:0', 'claude-sonnet-4-5', 'aws.bedrock', 'us'],
    ['vertex_ai/claude-3-5-haiku@20241022', 'claude-3-5-haiku', 'gcp.vertex_ai', ''],
    ['claude-3-5-sonnet-v2@20241022', 'claude-3-5-sonnet', 'gcp.vertex_ai', ''],
    ['claude-sonnet-4-5@20250929', 'claude-sonnet-4-5', 'gcp.vertex_ai', ''],
    ['openrouter/anthropic/claude-3.5-sonnet', 'claude-3-5-sonnet', 'openrouter', ''],
    ['claude-opus-5-5', 'claude-opus-5-5', 'anthropic', ''],
    ['Claude-3-Haiku-20240307', 'claude-3-haiku', 'anthropic', ''],
    ['openai/gpt-4o-mini', 'gpt-4o-mini', 'openai', ''],
    ['gpt-4o-2024-08-06', 'gpt-4o', 'openai', ''],
    ['azure/gpt-4.1', 'gpt-4.1', 'azure.ai.openai', ''],
    ['gemini/gemini-2.5-pro', 'gemini-2.5-pro', 'gcp.gemini', ''],
    ['my-team-alias', 'my-team-alias', '', ''],
    ['', '', '', ''],
  ])('%s → %s (%s, region %s)', (raw, model, provider, region) => {
    expect(parseModel(raw)).toEqual({ model, provider, region });
  });
});

describe('providers and hosts', () => {
  it.each([
    ['anthropic', 'anthropic'], ['bedrock', 'aws.bedrock'], ['vertex_ai', 'gcp.vertex_ai'], ['azure', 'azure.ai.openai'],
    ['Unknown', ''], ['', ''], ['None', ''], ['firstParty', 'anthropic'], ['aws.bedrock', 'aws.bedrock'], ['gcp.vertex_ai', 'gcp.vertex_ai'],
  ])('canonicalProvider(%s) = %s', (v, p) => expect(canonicalProvider(v)).toBe(p));

  it('reads hosts and regions from API bases', () => {
    expect(hostOf('https://bedrock-runtime.us-west-2.amazonaws.com/model/x')).toBe('bedrock-runtime.us-west-2.amazonaws.com');
    expect(regionOfHost('bedrock-runtime.us-west-2.amazonaws.com')).toBe('us-west-2');
    expect(regionOfHost(hostOf('https://us-east5-aiplatform.googleapis.com/v1/projects/p'))).toBe('us-east5');
    expect(regionOfHost('api.anthropic.com')).toBe('');
    expect(hostOf('http://127.0.0.1:43113')).toBe('127.0.0.1');
  });
});
