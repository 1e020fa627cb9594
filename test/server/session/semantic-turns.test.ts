import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../../server/config.ts';
import { createEngines } from '../../../server/engines.ts';
import { Session } from '../../../server/session/session.ts';
import { describeEngines } from '../../../server/session/engines.ts';
import { END_OF_TURN_DIR } from '../../../server/reasoning/turn/end-of-turn-model.ts';
import { tinyTurnModel } from '../../helpers/tiny-turn-model.ts';
import type { ServerEvent } from '../../../server/session/types.ts';
import { pausedSentence, PAUSED_TEMPLATES } from '../../helpers/paused-speech.ts';
import { closeSpeech, sequence, silence, speak } from '../../helpers/speech.ts';

type Engines = Awaited<ReturnType<typeof createEngines>>;

/** One spoken input on the media clock (deterministic: frames wait for the words), all events out. */
async function hear(engines: Engines, audio: Int16Array, turnDetection: 'server_vad' | 'semantic_vad'): Promise<ServerEvent[]> {
  const session = new Session({ engines, settings: { inputRate: 16000, clock: 'media' } });
  const events: ServerEvent[] = [];
  session.on('event', (e) => events.push(e));
  await session.open();
  session.update({ audio: { input: { turn_detection: { type: turnDetection } } } });
  session.appendAudio(audio);
  await session.idle();
  await session.activeResponse?.start();
  await session.idle();
  await session.activeResponse?.start();
  session.close();
  return events;
}

const ofType = <T extends ServerEvent['type']>(events: ServerEvent[], type: T) => events.filter((e): e is Extract<ServerEvent, { type: T }> => e.type === type);

/** Nothing of an answer goes out before the turn it answers has ended. */
function assertNothingHeardEarly(events: ServerEvent[]): void {
  const firstStop = events.findIndex((e) => e.type === 'input_audio_buffer.speech_stopped');
  const early = events.slice(0, Math.max(0, firstStop)).filter((e) => e.type.startsWith('response.'));
  assert.deepEqual(early.map((e) => e.type), [], 'answer events before the end of the turn');
}

describe('semantic_vad with an end-of-turn model in the models dir', () => {
  it('loads it, names it, and lets it decide: its "finished" ends the turn at a pause the words alone would wait through', async () => {
    const models = fs.mkdtempSync(path.join(os.tmpdir(), 'omnilive-turn-model-'));
    fs.mkdirSync(path.join(models, END_OF_TURN_DIR));
    // The stand-in scores any trailing silence as a finished turn.
    fs.writeFileSync(path.join(models, END_OF_TURN_DIR, 'tiny-turn.onnx'), tinyTurnModel());
    const engines = await createEngines(loadConfig({ 'vision.enabled': 'off', 'memory.enabled': 'off', 'vision.modelsDir': models }, {}));
    try {
      assert.equal(describeEngines(engines).turn_detector, 'onnx:tiny-turn.onnx');
      const s = await pausedSentence(PAUSED_TEMPLATES[0]!.before, PAUSED_TEMPLATES[0]!.after, 900);
      const events = await hear(engines, sequence(silence(400), s.pcm, silence(2000)), 'semantic_vad');
      assert.equal(ofType(events, 'input_audio_buffer.speech_stopped').length, 2, 'the model ended the turn at the pause');
    } finally {
      await engines.close();
      fs.rmSync(models, { recursive: true, force: true });
    }
  });
});

describe('semantic_vad on real speech (Silero, pocketsphinx, Flite)', () => {
  let engines: Engines;
  before(async () => {
    engines = await createEngines(loadConfig({ 'vision.enabled': 'off', 'memory.enabled': 'off' }, {}));
  });
  after(async () => {
    await engines.close();
    await closeSpeech();
  });

  it('sentences paused 600–1200 ms mid-way are one turn; server_vad cuts the same sentences', async () => {
    const cases = [
      { ...PAUSED_TEMPLATES[0]!, pauseMs: 600 },
      { ...PAUSED_TEMPLATES[2]!, pauseMs: 900 },
      { ...PAUSED_TEMPLATES[4]!, pauseMs: 1200 },
    ];
    let cutByServerVad = 0;
    for (const c of cases) {
      const s = await pausedSentence(c.before, c.after, c.pauseMs);
      const audio = sequence(silence(400), s.pcm, silence(2500));
      const events = await hear(engines, audio, 'semantic_vad');
      const stops = ofType(events, 'input_audio_buffer.speech_stopped');
      assert.equal(stops.length, 1, `"${s.text}" with a ${c.pauseMs} ms pause: ${stops.length} turns (${ofType(events, 'conversation.item.input_audio_transcription.completed').map((e) => `"${e.transcript}"`).join(', ')})`);
      assert.ok(stops[0]!.audio_end_ms > 400 + s.pauseEndMs, 'the turn ends after the words that follow the pause');
      assert.equal(ofType(events, 'response.done').length, 1, 'one answer');
      assertNothingHeardEarly(events);
      const fixed = await hear(engines, audio, 'server_vad');
      if (ofType(fixed, 'input_audio_buffer.speech_stopped').length > 1) cutByServerVad++;
    }
    assert.ok(cutByServerVad >= 2, `server_vad's fixed 500 ms silence cut ${cutByServerVad} of ${cases.length}`);
  });

  it('a complete question is answered by the answer prepared during the pause', async () => {
    const events = await hear(engines, sequence(silence(400), await speak('what is the weather like today'), silence(1500)), 'semantic_vad');
    const metrics = ofType(events, 'omnilive.metrics');
    assert.equal(metrics.length, 1);
    assert.equal(metrics[0]!.speculative, true);
    const done = events.find((e) => e.type === 'response.done');
    assert.ok(done?.type === 'response.done' && done.response.status === 'completed');
    assertNothingHeardEarly(events);
    // Order on the wire: the turn ends, its transcript, then the answer.
    const order = ['input_audio_buffer.speech_stopped', 'conversation.item.input_audio_transcription.completed', 'response.created', 'response.output_audio.delta'].map((t) => events.findIndex((e) => e.type === t));
    assert.deepEqual([...order].sort((a, b) => a - b), order);
  });

  it('an answer prepared for a pause the user talked through is dropped unheard, and counted', async () => {
    // "what is the weather like in | london today": the words before the pause would be answered.
    const s = await pausedSentence('what is the weather like', 'in london today', 700);
    const events = await hear(engines, sequence(silence(400), s.pcm, silence(2000)), 'semantic_vad');
    assert.equal(ofType(events, 'input_audio_buffer.speech_stopped').length, 1);
    const metrics = ofType(events, 'omnilive.metrics');
    assert.equal(metrics.length, 1);
    assert.ok(metrics[0]!.speculation_discarded >= 1, `discarded ${metrics[0]!.speculation_discarded}`);
    assert.equal(ofType(events, 'response.created').length, 1, 'only the answer to the whole sentence was ever announced');
    assertNothingHeardEarly(events);
  });
});
