/**
 * Tool-turn latency: what a client tool's round trip over the socket adds to an answer. A real
 * OmniLive server (default engines, Flite speech) with a scripted OpenAI-compatible model over
 * HTTP/SSE; a WebSocket client asks typed questions side by side in one run:
 *   plain — question → first answer audio;
 *   tool  — question → function_call done → the client sends function_call_output and
 *           response.create at once → first answer audio.
 * Prints one JSON document and a table to stdout, progress to stderr.
 *
 *   node --import tsx benchmarks/turn-latency/tool-turn.ts [--rounds N] [--token-ms MS]
 */
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { describeMachine, loadNow } from '../../server/eval/machine.ts';
import { quantile } from '../../server/eval/stats.ts';
import { startFakeLlm } from '../../test/helpers/fake-llm.ts';
import { startServer } from '../../test/helpers/server.ts';

const { values: args } = parseArgs({ options: { rounds: { type: 'string', default: '15' }, 'token-ms': { type: 'string', default: '5' } } });
const ROUNDS = Number(args.rounds);
const TOKEN_MS = Number(args['token-ms']);
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) throw new TypeError(`--rounds must be a positive integer, got '${args.rounds}'`);

const ANSWER = 'It is sunny in Paris today. The afternoon stays warm.';
const weatherTool = { type: 'function', name: 'get_weather', description: 'The weather in a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } };

type Event = { type: string; [key: string]: any };

/** One WebSocket session: send events, wait for the first event that matches, with its arrival time. */
class Client {
  readonly #ws: WebSocket;
  readonly #waiters: { match: (e: Event) => boolean; resolve: (at: { event: Event; at: number }) => void }[] = [];
  readonly opened: Promise<void>;
  constructor(url: string) {
    this.#ws = new WebSocket(url);
    this.opened = this.wait((e) => e.type === 'session.created').then(() => undefined);
    this.#ws.on('message', (data) => {
      const at = performance.now();
      const event = JSON.parse(data.toString()) as Event;
      if (event.type === 'error') process.stderr.write(`server error: ${JSON.stringify(event.error)}\n`);
      for (const w of [...this.#waiters]) {
        if (!w.match(event)) continue;
        this.#waiters.splice(this.#waiters.indexOf(w), 1);
        w.resolve({ event, at });
      }
    });
  }
  send(event: object): number {
    this.#ws.send(JSON.stringify(event));
    return performance.now();
  }
  wait(match: (e: Event) => boolean): Promise<{ event: Event; at: number }> {
    return new Promise((resolve) => this.#waiters.push({ match, resolve }));
  }
  close(): void {
    this.#ws.close();
  }
}

const ask = (c: Client, text: string) => {
  c.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text }] } });
  return c.send({ type: 'response.create' });
};
const firstAudio = (c: Client) => c.wait((e) => e.type === 'response.output_audio.delta');
const responseDone = (c: Client) => c.wait((e) => e.type === 'response.done');

async function plainTurn(c: Client): Promise<number> {
  const audio = firstAudio(c);
  const done = responseDone(c);
  const sent = ask(c, 'what is the weather like?');
  const ms = (await audio).at - sent;
  await done;
  return ms;
}

async function toolTurn(c: Client): Promise<{ total: number; toCall: number; roundTrip: number }> {
  const call = c.wait((e) => e.type === 'response.output_item.done' && e.item.type === 'function_call');
  const firstDone = responseDone(c);
  const sent = ask(c, 'what is the weather in Paris?');
  const { event, at: callAt } = await call;
  await firstDone;
  const audio = firstAudio(c);
  const done = responseDone(c);
  // As a client would: run the tool (instantly here) and continue the answer.
  const outputSent = c.send({ type: 'conversation.item.create', item: { type: 'function_call_output', call_id: event.item.call_id, output: 'sunny, 21 C' } });
  c.send({ type: 'response.create' });
  const audioAt = (await audio).at;
  await done;
  return { total: audioAt - sent, toCall: callAt - sent, roundTrip: audioAt - outputSent };
}

const summary = (xs: number[]) => ({ n: xs.length, median: round(quantile(xs, 0.5)), p95: round(quantile(xs, 0.95)), min: round(Math.min(...xs)), max: round(Math.max(...xs)) });
const round = (x: number) => Math.round(x * 10) / 10;

const loadAtStart = loadNow();
// The model calls the tool when offered it and no tool answer is in yet; otherwise it answers.
const llm = await startFakeLlm((_q, request) => {
  if (request.messages.at(-1)?.role === 'tool') return ANSWER;
  if (request.tools?.some((t) => t.function.name === 'get_weather')) return { toolCalls: [{ name: 'get_weather', arguments: '{"city":"Paris"}' }] };
  return ANSWER;
}, TOKEN_MS);
const server = await startServer({ 'tls.mode': 'off', 'llm.url': llm.url, 'llm.model': 'scripted' });
const url = `ws://127.0.0.1:${server.port}/v1/realtime`;
const plain = new Client(url);
const tools = new Client(url);
await Promise.all([plain.opened, tools.opened]);
// Memory is off; the clock is media, so answer audio is not paced to playback.
plain.send({ type: 'session.update', session: { omnilive: { clock: 'media' } } });
tools.send({ type: 'session.update', session: { tools: [weatherTool], omnilive: { clock: 'media' } } });

const results = { plain: [] as number[], tool: [] as number[], to_call: [] as number[], round_trip: [] as number[], added: [] as number[] };
try {
  for (let i = 0; i < ROUNDS; i++) {
    process.stderr.write(`\rround ${i + 1}/${ROUNDS}`);
    const p = await plainTurn(plain);
    const t = await toolTurn(tools);
    results.plain.push(p);
    results.tool.push(t.total);
    results.to_call.push(t.toCall);
    results.round_trip.push(t.roundTrip);
    results.added.push(t.total - p);
  }
  process.stderr.write('\n');
} finally {
  plain.close();
  tools.close();
  await server.close();
  await llm.close();
}

const report = {
  benchmark: 'turn-latency/tool-turn',
  date: new Date().toISOString(),
  options: { rounds: ROUNDS, token_ms: TOKEN_MS },
  machine: describeMachine(loadAtStart),
  definitions: {
    plain_first_audio: 'ms from sending response.create to the first answer audio delta, no tools',
    tool_first_audio: 'ms from sending response.create to the first audio delta of the answer that follows the tool result',
    question_to_call: 'ms from response.create to the function_call item done',
    tool_round_trip: 'ms from sending function_call_output (+ response.create) to the first answer audio delta',
    added_by_tool: 'tool_first_audio minus plain_first_audio, the same round, side by side',
  },
  steps_ms: {
    plain_first_audio: summary(results.plain),
    tool_first_audio: summary(results.tool),
    question_to_call: summary(results.to_call),
    tool_round_trip: summary(results.round_trip),
    added_by_tool: summary(results.added),
  },
};
console.log(JSON.stringify(report, null, 2));
const cell = (x: number) => String(x).padStart(8);
console.log(`\n${'step (ms)'.padEnd(22)}${['n', 'median', 'p95', 'min', 'max'].map((h) => h.padStart(8)).join('')}`);
for (const [name, s] of Object.entries(report.steps_ms)) console.log(`${name.padEnd(22)}${cell(s.n)}${cell(s.median)}${cell(s.p95)}${cell(s.min)}${cell(s.max)}`);
