import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ServerEventBody } from '../../../server/protocol/server-events.ts';
import { LanguageModelError } from '../../../server/reasoning/llm/failures.ts';
import { Response, type ResponseOptions } from '../../../server/session/response.ts';
import { ScriptedReasoner, ToneTts } from '../../helpers/stand-ins.ts';
import { TranscriptLog } from '../../../memory/index.ts';

function response(options: Partial<ResponseOptions> = {}) {
  const events: ServerEventBody[] = [];
  const placed: string[] = [];
  const r = new Response({
    reasoner: new ScriptedReasoner({ answers: ['Hello there. How are you?'] }),
    tts: new ToneTts(),
    voice: 'slt',
    modalities: ['audio'],
    outputRate: 24000,
    audioLeadMs: 0,
    timings: {},
    emit: (e) => events.push(e),
    conversation: { add: (item) => (placed.push(item.id), 'item_before'), done: () => {} },
    request: { question: 'hi', conversation: [], transcript: new TranscriptLog(), nowMs: 0, evidence: [], images: [] },
    ...options,
  });
  return { r, events, placed, types: () => events.map((e) => e.type) };
}

describe('Response', () => {
  it('streams text, sentence by sentence speech, then closes every part in order', async () => {
    const { r, events, placed, types } = response();
    await r.start();
    const t = types();
    assert.deepEqual(t.slice(0, 4), ['response.created', 'response.output_item.added', 'conversation.item.added', 'response.content_part.added']);
    assert.deepEqual(placed, [r.itemId], 'the message took its place in the conversation as it began');
    assert.deepEqual(t.slice(-7), ['response.output_audio.done', 'response.output_audio_transcript.done', 'response.output_text.done', 'response.content_part.done', 'response.output_item.done', 'conversation.item.done', 'response.done']);
    const transcript = events.flatMap((e) => (e.type === 'response.output_audio_transcript.delta' ? [e.delta] : []));
    assert.deepEqual(transcript, ['Hello there. ', 'How are you? '], 'one transcript delta per spoken sentence');
    const done = events.at(-1);
    assert.ok(done?.type === 'response.done');
    assert.equal(done.response.status, 'completed');
    assert.equal(done.response.output.length, 1);
    assert.equal(done.response.output[0]!.id, r.itemId);
    const output = done.response.output[0]!;
    assert.ok(output.type === 'message');
    assert.deepEqual(output.content, [{ type: 'output_audio', transcript: 'Hello there. How are you?' }]);
    assert.ok(Math.abs(done.response.metadata.audio_sent_ms - 500) <= 20, `5 words of 100 ms tone: ${done.response.metadata.audio_sent_ms}`);
  });

  it('cancel: response.done cancelled at once, and not one event after it', async () => {
    const { r, events, types } = response({ tts: new ToneTts({ delayMs: 30 }), reasoner: new ScriptedReasoner({ deltaDelayMs: 10, answers: ['One. Two. Three. Four. Five. Six.'] }) });
    const run = r.start();
    while (!types().includes('response.output_audio.delta')) await new Promise((res) => setTimeout(res, 5));
    r.cancel('turn_detected');
    const at = events.length;
    assert.equal(events.at(-1)?.type, 'response.done');
    await run;
    await new Promise((res) => setTimeout(res, 100));
    assert.equal(events.length, at, `nothing after the cancel: ${types().slice(at).join(', ')}`);
    const done = events.at(-1);
    assert.ok(done?.type === 'response.done');
    assert.deepEqual(done.response.status_details, { type: 'cancelled', reason: 'turn_detected' });
    assert.equal(done.response.output[0]!.status, 'incomplete');
    assert.ok(r.spokenText.startsWith('One.') && !r.spokenText.includes('Six'), r.spokenText);
  });

  it('prepare gets the abort signal: a cancel stops the gathering of context too', async () => {
    let seen: AbortSignal | undefined;
    const { r } = response({
      prepare: async (signal) => {
        seen = signal;
        await new Promise((res) => signal.addEventListener('abort', res));
        return {};
      },
    });
    const run = r.start();
    await new Promise((res) => setTimeout(res, 10));
    r.cancel('client_cancelled');
    await run;
    assert.equal(seen?.aborted, true);
    assert.equal(r.status, 'cancelled');
  });

  it('a failing reasoner ends the response as failed, with an error naming why', async () => {
    const { r, events } = response({ reasoner: new ScriptedReasoner({ fail: 'model server said 503' }) });
    await r.start();
    const error = events.find((e) => e.type === 'error');
    assert.ok(error?.type === 'error');
    assert.equal(error.error.code, 'response_failed');
    assert.match(error.error.message, /503/);
    const done = events.at(-1);
    assert.ok(done?.type === 'response.done' && done.response.status === 'failed');
  });

  it('a language model that stalls mid-answer: what came stays, the apology is spoken after it, and the response fails with its code', async () => {
    const stalls = {
      name: 'stalling',
      usesLanguageModel: true,
      async *respond() {
        yield { type: 'text' as const, text: 'The mug is ' };
        throw new LanguageModelError('stalled', "the language model's answer stalled: nothing for 10000 ms");
      },
      close: async () => {},
    };
    const { r, events, types } = response({ reasoner: stalls });
    await r.start();
    const said = 'The mug is ... Sorry, the language model stopped answering.';
    const transcript = events.find((e) => e.type === 'response.output_audio_transcript.done');
    assert.ok(transcript?.type === 'response.output_audio_transcript.done');
    assert.equal(transcript.transcript, said, 'all of it was spoken');
    assert.ok(types().includes('response.output_audio.delta'));
    const error = events.find((e) => e.type === 'error');
    assert.ok(error?.type === 'error');
    assert.deepEqual([error.error.type, error.error.code], ['server_error', 'llm_stalled']);
    const done = events.at(-1);
    assert.ok(done?.type === 'response.done');
    assert.equal(done.response.status, 'failed');
    assert.deepEqual(done.response.status_details, { type: 'failed', error: { type: 'server_error', code: 'llm_stalled', message: "the language model's answer stalled: nothing for 10000 ms" } });
    assert.equal(done.response.output[0]!.status, 'incomplete');
    assert.equal(r.spokenText.trim(), said);
  });

  it('text only: no audio events, the text is what was said', async () => {
    const { r, types } = response({ modalities: ['text'] });
    await r.start();
    assert.ok(!types().some((t) => t.startsWith('response.output_audio')));
    assert.equal(r.spokenText.trim(), 'Hello there. How are you?');
    assert.equal(r.speaks, false);
  });

  it('a barge-in during a tool call: the call is closed incomplete, its arguments never done, so no client runs it', async () => {
    const { r, events, types } = response({ reasoner: new ScriptedReasoner({ toolCall: { name: 'get_weather', arguments: '{"city":"Paris"}' }, deltaDelayMs: 10 }) });
    const run = r.start();
    while (!types().includes('response.function_call_arguments.delta')) await new Promise((res) => setTimeout(res, 2));
    r.cancel('turn_detected');
    await run;
    assert.ok(!types().includes('response.function_call_arguments.done'));
    const closed = events.find((e) => e.type === 'response.output_item.done');
    assert.ok(closed?.type === 'response.output_item.done' && closed.item.type === 'function_call');
    assert.equal(closed.item.status, 'incomplete');
    assert.ok(closed.item.arguments.length < '{"city":"Paris"}'.length, closed.item.arguments);
    assert.equal(events.at(-1)?.type, 'response.done');
  });
});

describe('Response: held (prepared during a pause) and paused (a possible barge-in)', () => {
  const audioOf = (events: ServerEventBody[]) => events.flatMap((e) => (e.type === 'response.output_audio.delta' ? [e.delta] : [])).join('');

  it('a held answer sends nothing and joins no conversation until released; then all of it, in order', async () => {
    const plain = response();
    await plain.r.start();
    const held = response({ held: true });
    const run = held.r.start();
    await new Promise((res) => setTimeout(res, 50));
    assert.deepEqual(held.events, [], 'nothing of a held answer reaches the client');
    assert.deepEqual(held.placed, [], 'nor the conversation');
    held.r.release({ speechEnd: 1, endOfTurn: 2 });
    await run;
    // Text the model made while held comes out ahead of the audio; otherwise the same answer, event for event.
    assert.deepEqual([...held.types()].sort(), [...plain.types()].sort());
    assert.equal(held.types()[0], 'response.created');
    assert.equal(held.types().at(-1), 'response.done');
    assert.equal(audioOf(held.events), audioOf(plain.events));
    assert.equal(held.r.timings.speculative, true);
  });

  it('a held answer dropped (the user went on) ends without a single event', async () => {
    const { r, events, placed } = response({ held: true });
    const run = r.start();
    await new Promise((res) => setTimeout(res, 20));
    r.cancel('turn_detected');
    await run;
    assert.equal(r.status, 'cancelled');
    assert.deepEqual(events, []);
    assert.deepEqual(placed, []);
  });

  it('paused audio stops at the next piece and resumes where it stopped: nothing lost or repeated, one answer', async () => {
    const plain = response({ audioLeadMs: 50 });
    await plain.r.start();
    const { r, events, types } = response({ audioLeadMs: 50 });
    const run = r.start();
    while (!events.some((e) => e.type === 'response.output_audio.delta')) await new Promise((res) => setTimeout(res, 5));
    const atPause = types().length;
    assert.equal(r.pauseAudio(), true);
    await new Promise((res) => setTimeout(res, 150));
    const during = types().slice(atPause);
    assert.deepEqual(during.filter((t) => t === 'response.output_audio.delta'), [], 'no audio while paused');
    assert.equal(during[0], 'omnilive.output_audio.paused');
    r.resumeAudio();
    await run;
    assert.equal(r.status, 'completed');
    assert.equal(audioOf(events), audioOf(plain.events), 'the same audio as without the pause');
    const resumed = events.find((e) => e.type === 'omnilive.output_audio.resumed');
    assert.ok(resumed?.type === 'omnilive.output_audio.resumed' && resumed.paused_ms >= 100);
    assert.equal(types().filter((t) => t === 'response.done').length, 1);
  });
});
