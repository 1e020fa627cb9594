import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { FakeRequest } from '../helpers/fake-llm.ts';
import { withScriptedModel } from '../helpers/server.ts';
import { RawClient } from '../helpers/ws-client.ts';
import { pcm16ToBase64 } from '../../server/audio/pcm.ts';
import { closeSpeech, sequence, silence, speak } from '../helpers/speech.ts';

const weatherTool = {
  type: 'function',
  name: 'get_weather',
  description: 'The weather in a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false },
};

/** The scripted model calls get_weather when offered it and no tool answer is in yet; then it answers. */
function model(_question: string, request: FakeRequest) {
  const last = request.messages.at(-1)!;
  if (last.role === 'tool') return `The tool says: ${request.messages.filter((m) => m.role === 'tool').map((m) => m.content).join(' / ')}`;
  if (/paris and rome/i.test(_question)) return { toolCalls: [{ name: 'get_weather', arguments: '{"city":"Paris"}' }, { name: 'get_weather', arguments: '{"city":"Rome"}' }] };
  if (request.tools?.some((t) => t.function.name === 'get_weather')) return { toolCalls: [{ name: 'get_weather', arguments: '{"city":"Paris"}' }] };
  return 'No tools were offered to me.';
}

describe('Realtime conformance: session fields, tools, conversation items', () => {
  const ctx = withScriptedModel(model);

  async function client() {
    const c = new RawClient(ctx.server);
    await c.opened;
    return c;
  }

  it('a whole GA session.update applies; a field it cannot honour is refused by name while the rest applies', async () => {
    const c = await client();
    c.send({
      type: 'session.update',
      event_id: 'u1',
      session: {
        type: 'realtime',
        model: 'gpt-realtime',
        instructions: 'Be brief.',
        output_modalities: ['text'],
        audio: {
          input: { format: { type: 'audio/pcm', rate: 24000 }, noise_reduction: null, transcription: { model: 'gpt-4o-mini-transcribe' }, turn_detection: { type: 'semantic_vad', eagerness: 'high' } },
          output: { format: { type: 'audio/pcm', rate: 24000 }, speed: 1.2 },
        },
        tools: [weatherTool, { type: 'function', name: 'broken', parameters: { type: 'object', properties: { x: { type: 'nope' } } } }],
        tool_choice: 'auto',
        max_output_tokens: 200,
        tracing: 'auto',
        truncation: 'auto',
        not_a_field: true,
      },
    });
    const updated = await c.log.waitFor('session.updated');
    const errors = c.log.of('error').map((e) => e.error.param);
    assert.deepEqual(errors.sort(), ['session.audio.output.speed', 'session.not_a_field', 'session.tools.1.parameters'].sort());
    assert.equal(updated.session.instructions, 'Be brief.');
    assert.deepEqual(updated.session.output_modalities, ['text']);
    assert.deepEqual(updated.session.audio.input.turn_detection, { type: 'semantic_vad', eagerness: 'high', create_response: true, interrupt_response: true });
    assert.deepEqual(updated.session.tools.map((t: { name: string }) => t.name), ['get_weather']);
    assert.equal(updated.session.max_output_tokens, 200);
    c.close();
  });

  it('a client tool: the model calls it, the client answers with function_call_output, response.create continues', async () => {
    const c = await client();
    c.send({ type: 'session.update', session: { output_modalities: ['text'], tools: [weatherTool] } });
    c.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'what is the weather in Paris?' }] } });
    c.send({ type: 'response.create' });
    const first = await c.log.waitFor('response.done', () => true, 20_000);
    assert.equal(first.response.status, 'completed');
    assert.equal(first.response.output.length, 1);
    const call = first.response.output[0];
    assert.equal(call.type, 'function_call');
    assert.equal(call.name, 'get_weather');
    assert.equal(call.arguments, '{"city":"Paris"}');
    const deltas = c.log.of('response.function_call_arguments.delta').map((e) => e.delta).join('');
    assert.equal(deltas, '{"city":"Paris"}');
    const argsDone = c.log.of('response.function_call_arguments.done')[0];
    assert.equal(argsDone.call_id, call.call_id);
    const sent = ctx.llm.requests.at(-1)!;
    assert.equal(sent.tools?.[0]?.function.name, 'get_weather');
    assert.equal(sent.max_tokens, 512);

    c.send({ type: 'conversation.item.create', item: { type: 'function_call_output', call_id: call.call_id, output: 'sunny, 21 C' } });
    c.send({ type: 'response.create' });
    const second = await c.log.waitFor('response.done', (e) => e.response.id !== first.response.id, 20_000);
    assert.equal(second.response.status, 'completed');
    assert.equal(second.response.output[0].content[0].text.trim(), 'The tool says: sunny, 21 C');
    assert.equal(second.response.usage.output_tokens, 6, 'the model server counted 6 tokens (its words)');
    assert.equal(second.response.usage.total_tokens, second.response.usage.input_tokens + 6);
    const asked = ctx.llm.requests.at(-1)!;
    const roles = asked.messages.map((m) => m.role);
    assert.deepEqual(roles.slice(-3), ['user', 'assistant', 'tool'], 'question, the call, its output: in that order');
    assert.equal(asked.messages.at(-2)!.tool_calls?.[0]?.id, call.call_id);
    assert.equal(asked.messages.at(-1)!.tool_call_id, call.call_id);
    assert.equal(c.log.of('error').length, 0, JSON.stringify(c.log.of('error')));
    c.close();
  });

  it('parallel calls: two function_call items in one response; both outputs reach the model before it answers', async () => {
    const c = new RawClient(ctx.server);
    await c.opened;
    c.send({ type: 'session.update', session: { output_modalities: ['text'], tools: [weatherTool] } });
    c.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'weather in Paris and Rome?' }] } });
    c.send({ type: 'response.create' });
    const first = await c.log.waitFor('response.done', () => true, 20_000);
    const calls = first.response.output;
    assert.deepEqual(calls.map((o: { type: string; arguments: string }) => [o.type, o.arguments]), [['function_call', '{"city":"Paris"}'], ['function_call', '{"city":"Rome"}']]);
    assert.notEqual(calls[0].call_id, calls[1].call_id);
    assert.deepEqual(c.log.of('response.output_item.added').map((e) => e.output_index), [0, 1]);
    c.send({ type: 'conversation.item.create', item: { type: 'function_call_output', call_id: calls[0].call_id, output: 'sunny' } });
    c.send({ type: 'conversation.item.create', item: { type: 'function_call_output', call_id: calls[1].call_id, output: 'error: the weather service is down' } });
    c.send({ type: 'response.create' });
    const second = await c.log.waitFor('response.done', (e) => e.response.id !== first.response.id, 20_000);
    assert.equal(second.response.output[0].content[0].text.trim(), 'The tool says: sunny / error: the weather service is down');
    const messages = ctx.llm.requests.at(-1)!.messages;
    assert.deepEqual(messages.slice(-4).map((m) => m.role), ['user', 'assistant', 'tool', 'tool'], 'both calls in one assistant message, then their outputs');
    assert.deepEqual(messages.at(-3)!.tool_calls?.map((t) => t.id), [calls[0].call_id, calls[1].call_id]);
    c.close();
  });

  it('items: retrieve, delete, unknown ids and unknown call ids are errors naming them, and the session goes on', async () => {
    const c = await client();
    c.send({ type: 'conversation.item.create', item: { id: 'item_q', type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hello' }] } });
    c.send({ type: 'conversation.item.retrieve', item_id: 'item_q' });
    const retrieved = await c.log.waitFor('conversation.item.retrieved');
    assert.equal(retrieved.item.content[0].text, 'hello');
    c.send({ type: 'conversation.item.retrieve', event_id: 'r2', item_id: 'item_nope' });
    c.send({ type: 'conversation.item.truncate', event_id: 't1', item_id: 'item_q', content_index: 0, audio_end_ms: 100 });
    c.send({ type: 'conversation.item.create', event_id: 'o1', item: { type: 'function_call_output', call_id: 'call_nope', output: 'x' } });
    c.send({ type: 'conversation.item.create', event_id: 'm1', item: { type: 'message', role: 'system', content: [{ type: 'output_text', text: 'x' }] } });
    c.send({ type: 'conversation.item.delete', item_id: 'item_q' });
    await c.log.waitFor('conversation.item.deleted');
    c.send({ type: 'conversation.item.delete', event_id: 'd2', item_id: 'item_q' });
    c.send({ type: 'output_audio_buffer.clear', event_id: 'clear' }); // over WebSocket the client holds the audio: nothing to clear, no error
    const errors = await c.log.waitFor('error', () => c.log.of('error').length >= 5);
    void errors;
    const byEvent = Object.fromEntries(c.log.of('error').map((e) => [e.error.event_id, `${e.error.code}: ${e.error.message}`]));
    assert.match(byEvent.r2!, /item_not_found: .*item_nope/);
    assert.match(byEvent.t1!, /not an assistant message/);
    assert.match(byEvent.o1!, /call_id 'call_nope'/);
    assert.match(byEvent.m1!, /system message cannot hold output_text/);
    assert.match(byEvent.d2!, /item_not_found/);
    assert.equal(byEvent.clear, undefined);
    c.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'still here?' }] } });
    await c.log.waitFor('conversation.item.done', (e) => e.item.content?.[0]?.text === 'still here?');
    c.close();
  });

  it('an image the user sends reaches the model with the question; a URL to fetch is refused by name', async () => {
    const c = new RawClient(ctx.server);
    await c.opened;
    const png = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
    c.send({ type: 'session.update', session: { output_modalities: ['text'] } });
    c.send({ type: 'conversation.item.create', event_id: 'url', item: { type: 'message', role: 'user', content: [{ type: 'input_image', image_url: 'https://example.com/a.png' }] } });
    const refused = await c.log.waitFor('error', (e) => e.error.event_id === 'url');
    assert.match(refused.error.message, /image_url must be a base64 data URL/);
    c.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'what is in this picture?' }, { type: 'input_image', image_url: png }] } });
    c.send({ type: 'response.create' });
    await c.log.waitFor('response.done', () => true, 20_000);
    const question = ctx.llm.requests.at(-1)!.messages.at(-1)! as unknown as { role: string; content: { type: string; text?: string; image_url?: { url: string } }[] };
    assert.equal(question.role, 'user');
    assert.equal(question.content[0]?.text, 'what is in this picture?');
    assert.equal(question.content[1]?.image_url?.url, png);
    c.close();
  });

  it('response.create options: out-of-band answers stay out of the conversation, metadata is echoed', async () => {
    const c = await client();
    c.send({ type: 'session.update', session: { output_modalities: ['text'] } });
    c.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'what is new?' }] } });
    c.send({ type: 'response.create', response: { conversation: 'none', metadata: { topic: 'summary' }, tools: [] } });
    const done = await c.log.waitFor('response.done', () => true, 20_000);
    assert.equal(done.response.metadata.topic, 'summary');
    assert.equal(c.log.of('conversation.item.added').filter((e) => e.item.role === 'assistant').length, 0, 'no assistant item joined the conversation');
    assert.equal(done.response.output[0].content[0].text.trim(), 'No tools were offered to me.');
    c.close();
  });
});

describe('response.create with its own input', () => {
  const ctx = withScriptedModel((question) => `You asked: ${question}`);

  it('answers the given items (new ones and references) instead of the conversation; a bad reference is an error', async () => {
    const c = new RawClient(ctx.server);
    await c.opened;
    c.send({ type: 'session.update', session: { output_modalities: ['text'] } });
    c.send({ type: 'conversation.item.create', item: { id: 'item_note', type: 'message', role: 'user', content: [{ type: 'input_text', text: 'the meeting is at noon' }] } });
    c.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'something else entirely' }] } });
    c.send({
      type: 'response.create',
      response: { conversation: 'none', input: [{ type: 'item_reference', id: 'item_note' }, { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'classify that note' }] }] },
    });
    const done = await c.log.waitFor('response.done', () => true, 20_000);
    assert.equal(done.response.output[0].content[0].text.trim(), 'You asked: classify that note');
    const sent = ctx.llm.requests.at(-1)!.messages.map((m) => m.content);
    assert.ok(sent.includes('the meeting is at noon'), 'the referenced item is in');
    assert.ok(!sent.includes('something else entirely'), 'the rest of the conversation is not');
    c.send({ type: 'response.create', event_id: 'bad', response: { input: [{ type: 'item_reference', id: 'item_gone' }] } });
    const error = await c.log.waitFor('error', (e) => e.error.event_id === 'bad');
    assert.equal(error.error.code, 'item_not_found');
    c.close();
  });
  it('audio inside an item is transcribed, and the answer waits for its words', async () => {
    const c = new RawClient(ctx.server);
    await c.opened;
    c.send({ type: 'session.update', session: { output_modalities: ['text'], audio: { input: { format: { type: 'audio/pcm', rate: 16000 } } } } });
    const audio = pcm16ToBase64(sequence(silence(300), await speak('what is the weather like today'), silence(300)));
    c.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_audio', audio }] } });
    c.send({ type: 'response.create' });
    const heard = await c.log.waitFor('conversation.item.input_audio_transcription.completed', () => true, 20_000);
    assert.match(heard.transcript, /weather/);
    const done = await c.log.waitFor('response.done', () => true, 20_000);
    assert.match(done.response.output[0].content[0].text, /You asked: .*weather/);
    c.close();
  });
});

describe('Built-in server tools: memory_search (and current_view with vision)', () => {
  // The model looks in memory when it may, then answers from what the tool returned.
  const ctx = withScriptedModel(
    (question, request) => {
      const last = request.messages.at(-1)!;
      if (last.role === 'tool') return `Memory says: ${last.content}`;
      if (/where/i.test(question) && request.tools?.some((t) => t.function.name === 'memory_search')) return { toolCalls: [{ name: 'memory_search', arguments: '{"query":"kettle"}' }] };
      return 'I did not look.';
    },
    { 'memory.enabled': 'on' },
  );

  it('the model searches memory on its own; the client sees the results and the answer, never the call', async () => {
    const c = new RawClient(ctx.server);
    await c.opened;
    const created = c.log.of('session.created')[0]!;
    assert.ok(created.session.tools.some((t: { name: string }) => t.name === 'memory_search'), 'listed in session.created');
    c.send({ type: 'session.update', session: { output_modalities: ['text'] } });
    c.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'the kettle is on the windowsill' }] } });
    c.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'where did I put it?' }] } });
    c.send({ type: 'response.create' });
    const done = await c.log.waitFor('response.done', () => true, 20_000);
    assert.equal(done.response.status, 'completed');
    assert.deepEqual(done.response.output.map((o: { type: string }) => o.type), ['message'], 'no function_call reaches the client');
    assert.match(done.response.output[0].content[0].text, /^Memory says: .*kettle is on the windowsill/);
    const results = c.log.of('omnilive.memory.results');
    assert.equal(results[0]?.query, 'kettle');
    const second = ctx.llm.requests.at(-1)!;
    assert.deepEqual(second.messages.slice(-2).map((m) => m.role), ['assistant', 'tool']);

    c.send({ type: 'session.update', session: { omnilive: { builtin_tools: false } } });
    const off = await c.log.waitFor('session.updated', (e) => e.session.omnilive.builtin_tools === false);
    assert.deepEqual(off.session.tools, []);
    c.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'where is it now?' }] } });
    c.send({ type: 'response.create' });
    const plain = await c.log.waitFor('response.done', (e) => e.response.id !== done.response.id, 20_000);
    assert.equal(plain.response.output[0].content[0].text.trim(), 'I did not look.');
    assert.equal(ctx.llm.requests.at(-1)!.tools, undefined, 'switched off: not offered to the model');
    assert.equal(c.log.of('error').length, 0, JSON.stringify(c.log.of('error')));
    c.close();
  });
});

after(() => closeSpeech());
