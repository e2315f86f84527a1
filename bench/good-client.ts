import { parseArgs } from 'node:util';
import { wellBehaved } from './load.js';
import { liteLLMTraces } from './payload.js';
import { httpTransport } from './transport.js';

/**
 * The overload phase's well-behaved client, in a process of its own: a real client does not share
 * the load generator's event loop, whose delays would otherwise count as the receiver's. One
 * 50-call LiteLLM export every --every-ms for --seconds over HTTP from --from; prints one JSON line.
 */

const { values } = parseArgs({ options: { port: { type: 'string' }, from: { type: 'string' }, 'every-ms': { type: 'string' }, seconds: { type: 'string' } } });
const [port, everyMs, seconds] = [Number(values.port), Number(values['every-ms']), Number(values.seconds)];
if (!(port > 0 && everyMs > 0 && seconds > 0) || values.from === undefined) {
  process.stderr.write('usage: good-client --port N --from ADDRESS --every-ms N --seconds N\n');
  process.exit(64);
}
// Copy numbers of their own, so that no call of this process shares an id with the generator's.
const traces = liteLLMTraces({ calls: 50, copyBase: 0xc000 });
const t = httpTransport(port, 1, values.from);
try {
  const { answers, calls } = await wellBehaved(t, { traces, ccEvery: 0 }, { everyMs, seconds });
  process.stdout.write(JSON.stringify({ ...answers, answerMs: [...answers.answerMs], refusalMs: [...answers.refusalMs], calls }) + '\n');
} finally {
  t.close();
}
