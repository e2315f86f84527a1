/**
 * An agent built on the npm Claude Agent SDK, which runs the Claude Code CLI of its platform
 * package: the Node counterpart of agent_app.py, run by agent-sdk.test.ts with the SDK's install
 * dir (.tools/sources/claude-agent-sdk, scripts/setup-sources.sh) as APP_NODE_MODULES:
 *   node agent_app.mjs <prompt>
 * Environment as agent_app.py's. Prints the run's result message as one JSON line.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const sdk = await import(pathToFileURL(join(process.env.APP_NODE_MODULES, 'node_modules/@anthropic-ai/claude-agent-sdk/sdk.mjs')).href);
for await (const message of sdk.query({ prompt: process.argv[2], options: { model: process.env.APP_MODEL, maxTurns: 1, cwd: process.env.APP_CWD } })) {
  if (message.type === 'result') {
    process.stdout.write(JSON.stringify({ session_id: message.session_id, total_cost_usd: message.total_cost_usd, is_error: message.is_error }) + '\n');
  }
}
