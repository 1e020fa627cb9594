import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { RealtimeAgent, RealtimeSession, tool, type RealtimeItem } from '@openai/agents-realtime';
import { z } from 'zod';
import type { FakeRequest } from '../helpers/fake-llm.ts';
import { withScriptedModel } from '../helpers/server.ts';
import { closeSpeech, sequence, silence, speak } from '../helpers/speech.ts';

/**
 * The OpenAI Agents SDK (`@openai/agents-realtime`, RealtimeSession over its WebSocket
 * transport) pointed at OmniLive with nothing else changed; the language model is a scripted
 * OpenAI-compatible server over real HTTP/SSE. Not one `error` may reach the SDK.
 */

const LONG = 'The weather today is sunny. It will stay warm all afternoon. Tonight it cools down a little. Tomorrow brings clouds and some rain. The weekend looks bright again. Pack a light jacket just in case.';

/** The scripted model: calls a tool when the question asks for it, answers from a tool's output, else talks. */
function model(question: string, request: FakeRequest) {
  const last = request.messages.at(-1)!;
  const offered = (name: string) => request.tools?.some((t) => t.function.name === name);
  if (last.role === 'tool') return `Done: ${last.content}`;
  if (/billing/i.test(question) && offered('transfer_to_billing')) return { toolCalls: [{ name: 'transfer_to_billing', arguments: '{}' }] };
  if (/weather in/i.test(question) && offered('get_weather')) return { toolCalls: [{ name: 'get_weather', arguments: '{"city":"Paris"}' }] };
  return LONG;
}

function agents() {
  const weather = tool({
    name: 'get_weather',
    description: 'Get the weather for a city',
    parameters: z.object({ city: z.string() }),
    execute: async ({ city }) => `It is sunny in ${city}, 21 C.`,
  });
  const billing = new RealtimeAgent({ name: 'billing', instructions: 'You are the billing agent.', tools: [] });
  const frontDesk = new RealtimeAgent({ name: 'front_desk', instructions: 'You are the front desk. Be brief.', tools: [weather], handoffs: [billing] });
  return { frontDesk, billing };
}

const text = (item: RealtimeItem | undefined) =>
  item && item.type === 'message' ? item.content.map((c) => ('text' in c ? c.text : 'transcript' in c ? (c.transcript ?? '') : '')).join('') : '';

describe('OpenAI Agents SDK (RealtimeSession, WebSocket transport) against OmniLive', () => {
  const ctx = withScriptedModel(model, {}, 15);
  const url = () => `ws://127.0.0.1:${ctx.server.port}/v1/realtime`;
  after(() => closeSpeech());

  async function connect(config: Record<string, unknown> = {}) {
    const { frontDesk } = agents();
    const session = new RealtimeSession(frontDesk, { transport: 'websocket', model: 'omnilive', config });
    const errors: unknown[] = [];
    session.on('error', (e) => errors.push(e));
    await session.connect({ apiKey: 'local-not-checked', url: url() });
    return { session, errors };
  }

  async function until(what: string, done: () => boolean, timeoutMs = 20_000): Promise<void> {
    const start = Date.now();
    while (!done()) {
      if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
      await sleep(20);
    }
  }

  it('a typed question is answered through a client-side tool call, with no error', async () => {
    const { session, errors } = await connect({ outputModalities: ['text'] });
    const toolRuns: string[] = [];
    session.on('agent_tool_end', (_c, _a, t, result) => toolRuns.push(`${t.name}: ${result}`));
    session.sendMessage('What is the weather in Paris?');
    await until('the answer after the tool', () => session.history.some((i) => i.type === 'message' && i.role === 'assistant' && text(i).startsWith('Done:')));
    assert.deepEqual(toolRuns, ['get_weather: It is sunny in Paris, 21 C.']);
    const answer = session.history.filter((i) => i.type === 'message' && i.role === 'assistant').at(-1);
    assert.equal(text(answer).trim(), 'Done: It is sunny in Paris, 21 C.');
    const call = session.history.find((i) => i.type === 'function_call');
    assert.ok(call && call.type === 'function_call' && call.name === 'get_weather' && call.arguments === '{"city":"Paris"}');
    assert.equal(text(session.history[0]), 'What is the weather in Paris?');
    // The first session.update set the instructions and tools the model saw.
    const toolRequest = ctx.llm.requests.find((r) => r.tools?.length);
    assert.match(String(toolRequest?.messages[0]?.content), /You are the front desk/);
    assert.deepEqual(errors, []);
    session.close();
  });

  it('a handoff swaps instructions and tools, with no error', async () => {
    const { session, errors } = await connect({ outputModalities: ['text'] });
    let handedTo = '';
    session.on('agent_handoff', (_c, _from, to) => (handedTo = to.name));
    session.sendMessage('I have a billing question.');
    await until('the billing agent answers', () => handedTo === 'billing' && session.history.some((i) => i.type === 'message' && i.role === 'assistant' && text(i).startsWith('Done:')));
    assert.equal(session.currentAgent.name, 'billing');
    const last = ctx.llm.requests.at(-1)!;
    assert.match(String(last.messages[0]?.content), /You are the billing agent/);
    assert.equal(last.tools, undefined, 'the billing agent has no tools');
    assert.deepEqual(errors, []);
    session.close();
  });

  it('a spoken turn, then an interruption: truncate and retrieve work, the history holds what was heard, no error', async () => {
    const { session, errors } = await connect({ audio: { input: { turnDetection: { type: 'semantic_vad', eagerness: 'high' } } } });
    const send = async (pcm: Int16Array) => {
      for (let i = 0; i < pcm.length; i += 2400) {
        session.sendAudio(pcm.slice(i, i + 2400).buffer);
        await sleep(100);
      }
    };
    await send(sequence(silence(300, 24000), await speak('what is the weather like today', { rate: 24000 }), silence(1200, 24000)));
    await until('the user transcript in history', () => session.history.some((i) => i.type === 'message' && i.role === 'user' && text(i).length > 0));
    let audio = 0;
    session.on('audio', () => audio++);
    await until('answer audio', () => audio > 5);
    session.interrupt();
    await until('the cut answer settles', () => session.history.some((i) => i.type === 'message' && i.role === 'assistant' && i.status === 'incomplete'));
    await sleep(500);
    const answer = session.history.find((i) => i.type === 'message' && i.role === 'assistant')!;
    const heard = text(answer);
    assert.ok(heard.length > 0 && heard.length < LONG.length, `the history keeps what was heard, not the whole answer: "${heard}"`);
    assert.ok(LONG.startsWith(heard.trim().split(' ').slice(0, 3).join(' ')), heard);
    assert.deepEqual(errors, []);
    session.close();
  });
});
