import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { AudioInput } from '../../../server/perception/audio/audio-input.ts';
import { AudioRecognition, type RecognitionHooks } from '../../../server/reasoning/turn/audio-recognition.ts';
import { ServerVadEndpointing } from '../../../server/reasoning/turn/endpointing.ts';
import type { ServerEvent, ServerEventBody } from '../../../server/protocol/server-events.ts';
import { Conversation } from '../../../server/session/conversation.ts';
import { Session, type SessionEngines } from '../../../server/session/session.ts';
import { TurnController, type TurnHost } from '../../../server/session/turn-controller.ts';
import type { SessionSettings } from '../../../server/session/types.ts';
import { EnergyVad, ScriptedAsr, ScriptedReasoner, ToneTts, concat, loud, quiet, standInEngines } from '../../helpers/stand-ins.ts';

async function session(engines: Partial<SessionEngines>, settings: Partial<SessionSettings> = {}) {
  const s = new Session({ engines: standInEngines(engines), settings: { inputRate: 16000, modalities: ['text'], clock: 'media', ...settings } });
  const events: ServerEvent[] = [];
  s.on('event', (e) => events.push(e));
  await s.open();
  return { s, events, types: () => events.map((e): string => e.type) };
}

describe('Turns, with engine stand-ins', () => {
  it('server_vad: speech then silence → the user turn on the wire, then the answer', async () => {
    const { s, events, types } = await session({ asr: new ScriptedAsr(['what time is it']) });
    s.appendAudio(concat(quiet(300), loud(600), quiet(800)));
    await s.idle();
    await s.activeResponse?.start();
    const t = types();
    const order = ['input_audio_buffer.speech_started', 'conversation.item.input_audio_transcription.delta', 'input_audio_buffer.speech_stopped', 'input_audio_buffer.committed', 'conversation.item.added', 'conversation.item.input_audio_transcription.completed', 'conversation.item.done', 'response.created', 'response.done'];
    assert.deepEqual(order.map((type) => t.indexOf(type)).every((i, k, all) => i >= 0 && (k === 0 || i > all[k - 1]!)), true, t.join(', '));
    const started = events.find((e) => e.type === 'input_audio_buffer.speech_started');
    assert.ok(started && Math.abs(started.audio_start_ms - 300) <= 64, `speech starts at 300 ms: ${started?.audio_start_ms}`);
    const completed = events.find((e) => e.type === 'conversation.item.input_audio_transcription.completed');
    assert.equal(completed?.transcript, 'what time is it');
    assert.deepEqual(s.conversation.items.map((i) => (i.type === 'message' ? i.role : i.type)).slice(0, 1), ['user']);
    s.close();
  });

  it('barge-in: speech over a spoken answer cancels it before anything else is sent', async () => {
    const reasoner = new ScriptedReasoner({ answers: [Array.from({ length: 30 }, (_, i) => `word${i}`).join(' ') + '.'] });
    const { s, events, types } = await session({ asr: new ScriptedAsr(['tell me a story', 'stop']), reasoner, tts: new ToneTts() }, { modalities: ['audio'], clock: 'live' });
    s.appendAudio(concat(quiet(200), loud(500), quiet(700)));
    while (!types().includes('response.output_audio.delta')) await sleep(10);
    s.appendAudio(loud(400));
    while (!types().includes('response.done')) await sleep(10);
    const t = types();
    const started = t.lastIndexOf('input_audio_buffer.speech_started');
    const cancelled = t.indexOf('response.done', started);
    // Right after the start of speech: the open answer item is closed (incomplete), then the response is done.
    assert.deepEqual(t.slice(started + 1, cancelled), ['response.content_part.done', 'response.output_item.done', 'conversation.item.done'], t.slice(started).join(', '));
    const done = events[cancelled];
    assert.ok(done?.type === 'response.done');
    assert.equal(done.response.status, 'cancelled');
    assert.ok(!t.slice(started).includes('response.output_audio.delta'), 'no answer audio after the barge-in');
    const assistant = s.conversation.items.find((i) => i.type === 'message' && i.role === 'assistant');
    assert.ok(assistant, 'what was said of the answer stays in the conversation');
    s.close();
  });

  it('filler is not answered; manual turns need a commit; an empty commit is an error', async () => {
    const filler = await session({ asr: new ScriptedAsr(['um']) });
    filler.s.appendAudio(concat(loud(400), quiet(700)));
    await filler.s.idle();
    const ignored = filler.events.find((e) => e.type === 'omnilive.turn.ignored');
    assert.equal(ignored?.reason, 'filler');
    assert.ok(!filler.types().includes('response.created'));
    filler.s.close();

    const manual = await session({ asr: new ScriptedAsr(['hello']) }, { turnDetection: null });
    manual.s.appendAudio(concat(loud(400), quiet(700)));
    await manual.s.idle();
    assert.ok(!manual.types().includes('input_audio_buffer.committed'), 'no turn without a commit');
    manual.s.commitAudio();
    await manual.s.idle();
    assert.ok(!manual.types().includes('input_audio_buffer.speech_started'));
    assert.equal(manual.events.find((e) => e.type === 'conversation.item.input_audio_transcription.completed')?.transcript, 'hello');
    assert.ok(!manual.types().includes('response.created'), 'manual turns are answered on response.create only');
    manual.s.commitAudio();
    await manual.s.idle();
    const error = manual.events.find((e) => e.type === 'error');
    assert.equal(error?.error.code, 'input_audio_buffer_commit_empty');
    manual.s.close();
  });

  it('a transcript that cannot be made is reported for its item (transcription.failed), and the session goes on', async () => {
    const { s, events, types } = await session({ asr: new ScriptedAsr(['hello there'], { failFinish: 'decoder crashed' }) });
    s.appendAudio(concat(loud(400), quiet(700)));
    await s.idle();
    const failed = events.find((e) => e.type === 'conversation.item.input_audio_transcription.failed');
    const committed = events.find((e) => e.type === 'input_audio_buffer.committed');
    assert.ok(failed && committed && failed.item_id === committed.item_id);
    assert.match(failed.error.message, /decoder crashed/);
    assert.ok(!types().includes('response.created'));
    s.appendAudio(quiet(100)); // still takes audio
    await s.idle();
    s.close();
  });

  it('ASR partials reach endpointing (where semantic end of turn will read them)', async () => {
    const seen: string[] = [];
    const endpointing = new ServerVadEndpointing();
    endpointing.onTranscript = (cues) => void seen.push(cues.words);
    const input = new AudioInput({ inputRate: 16000, clock: 'media', maxLeadMs: 0 });
    const deltas: string[] = [];
    const hooks: RecognitionHooks = {
      onStartOfSpeech: () => {},
      onTranscriptDelta: (_u, d) => void deltas.push(d),
      onEndOfTurn: () => {},
      onFinalTranscript: () => {},
      onTranscriptionFailed: (_u, error) => assert.fail(String(error)),
      onError: (code, error) => assert.fail(`${code}: ${error}`),
    };
    const recognition = new AudioRecognition({ vad: new EnergyVad(), asr: new ScriptedAsr(['one two three four']), input, endpointing, hooks });
    await recognition.open();
    for (const frame of input.frames(input.accept(concat(loud(800), quiet(700)), 0), 0)) await recognition.push(frame);
    await recognition.idle();
    assert.deepEqual(seen.slice(0, 2), ['one', 'one two']);
    assert.equal(deltas.join(''), seen.at(-1), 'the deltas add up to the last partial');
    recognition.parentClosed();
  });
});

describe('TurnController policies, with a stand-in host', () => {
  function host(overrides: Partial<TurnHost> = {}) {
    const events: ServerEventBody[] = [];
    const calls: string[] = [];
    const h: TurnHost = {
      closed: false,
      conversation: new Conversation(),
      emit: (e) => void events.push(e),
      fail: (code) => void calls.push(`fail:${code}`),
      remember: () => {},
      responding: false,
      respond: () => void calls.push('respond'),
      cancelResponse: (reason) => (calls.push(`cancel:${reason}`), true),
      pauseResponse: () => (calls.push('pause'), true),
      resumeResponse: () => void calls.push('resume'),
      prepareResponse: () => (calls.push('prepare'), true),
      releaseResponse: () => (calls.push('release'), true),
      discardResponse: () => (calls.push('discard'), false),
      userSpeaking: false,
      ...overrides,
    };
    return { h, events, calls };
  }
  const utterance = { itemId: 'item_1', startMs: 0, speechStartMs: 300, detected: true, partial: '' };
  const end = { audioEndMs: 1000, speechEndWall: 0, decidedWall: 1 };
  const serverVad = { createResponse: true, interruptResponse: true };

  it('barge-in only when an answer runs and interrupt_response allows it', () => {
    const a = host({ responding: true });
    const c = new TurnController(a.h);
    c.configure(serverVad, { mode: 'rules', minWords: 2 });
    c.onStartOfSpeech(utterance);
    assert.deepEqual(a.calls, ['cancel:turn_detected']);
    assert.equal(a.events[0]?.type, 'input_audio_buffer.speech_started', 'the start is reported first');

    const b = host({ responding: true });
    const d = new TurnController(b.h);
    d.configure({ ...serverVad, interruptResponse: false }, { mode: 'rules', minWords: 2 });
    d.onStartOfSpeech(utterance);
    assert.deepEqual(b.calls, []);
  });

  it('a finished turn is answered, unless the user already speaks again', () => {
    const talking = host({ userSpeaking: true });
    const c = new TurnController(talking.h);
    c.configure(serverVad, { mode: 'rules', minWords: 2 });
    c.onEndOfTurn(utterance, end);
    c.onFinalTranscript(utterance, end, { text: 'what is the time', computeMs: 1 }, 2);
    assert.deepEqual(talking.calls, []);
    assert.equal(talking.events.at(-1)?.type, 'omnilive.turn.ignored');

    const quietUser = host();
    const d = new TurnController(quietUser.h);
    d.configure(serverVad, { mode: 'rules', minWords: 2 });
    d.onEndOfTurn(utterance, end);
    d.onFinalTranscript(utterance, end, { text: 'what is the time', computeMs: 1 }, 2);
    assert.deepEqual(quietUser.calls, ['respond']);
    const heard = quietUser.h.conversation.items[0];
    assert.ok(heard?.type === 'message');
    assert.equal(heard.content[0]?.type, 'input_audio');
  });
});
