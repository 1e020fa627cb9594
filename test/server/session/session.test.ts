import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../../server/config.ts';
import { createEngines } from '../../../server/engines.ts';
import { Session } from '../../../server/session/session.ts';
import type { ServerEvent } from '../../../server/session/types.ts';
import { closeSpeech, sequence, silence, speak } from '../../helpers/speech.ts';

type Engines = Awaited<ReturnType<typeof createEngines>>;

/** Session harness: audio in, events out, on the media clock so nothing depends on timing. */
async function runSession(engines: Engines, drive: (s: Session) => Promise<void>): Promise<ServerEvent[]> {
  const session = new Session({ engines, settings: { inputRate: 16000, clock: 'media' } });
  const events: ServerEvent[] = [];
  session.on('event', (e) => events.push(e));
  await session.open();
  await drive(session);
  await session.idle();
  await session.activeResponse?.start();
  session.close();
  return events;
}

const types = (events: ServerEvent[]) => events.map((e) => e.type);

describe('Session', () => {
  let engines: Engines;
  let question: Int16Array;
  before(async () => {
    engines = await createEngines(loadConfig({ 'vision.enabled': 'off', 'memory.enabled': 'off' }, {}));
    question = await speak('what is the weather like today');
  });
  after(async () => {
    await engines.close();
    await closeSpeech();
  });

  it('server VAD: speech → started, stopped, committed, transcript, answer', async () => {
    const events = await runSession(engines, async (s) => s.appendAudio(sequence(silence(500), question, silence(800))));
    const t = types(events);
    for (const type of ['input_audio_buffer.speech_started', 'input_audio_buffer.speech_stopped', 'input_audio_buffer.committed', 'conversation.item.input_audio_transcription.completed', 'response.done']) {
      assert.ok(t.includes(type), `${type} in ${t.join(',')}`);
    }
    assert.ok(t.indexOf('input_audio_buffer.speech_started') < t.indexOf('input_audio_buffer.speech_stopped'));
    const started = events.find((e) => e.type === 'input_audio_buffer.speech_started')!;
    // Flite speech starts at 500 ms (plus the voice's own lead-in); detection is within a few frames of it.
    assert.ok((started.audio_start_ms as number) >= 400 && (started.audio_start_ms as number) <= 800, String(started.audio_start_ms));
  });

  it('silence alone starts no turn', async () => {
    const events = await runSession(engines, async (s) => s.appendAudio(silence(3000)));
    assert.deepEqual(types(events), ['session.created']);
  });

  it('manual turns: turn_detection null, then commit and response.create', async () => {
    const events = await runSession(engines, async (s) => {
      s.update({ audio: { input: { turn_detection: null } } });
      s.appendAudio(sequence(silence(300), question, silence(300)));
      s.commitAudio();
      await s.idle();
      s.createResponse({ modalities: ['text'] });
    });
    const t = types(events);
    assert.ok(!t.includes('input_audio_buffer.speech_started'));
    const transcript = events.find((e) => e.type === 'conversation.item.input_audio_transcription.completed');
    assert.match(String(transcript?.transcript), /weather/);
    const done = events.find((e) => e.type === 'response.done') as any;
    assert.equal(done.response.status, 'completed');
    assert.ok(!t.includes('response.output_audio.delta'), 'text-only response has no audio');
  });

  it('input_audio_buffer.clear drops the utterance being heard', async () => {
    const events = await runSession(engines, async (s) => {
      s.appendAudio(sequence(silence(300), question.subarray(0, 16000)));
      s.clearAudio();
      s.appendAudio(silence(1000));
    });
    const t = types(events);
    assert.ok(t.includes('input_audio_buffer.cleared'), t.join(','));
    assert.ok(!t.includes('conversation.item.input_audio_transcription.completed'));
  });

  it('fillers are heard but not answered', async () => {
    const um = await speak('ok');
    const events = await runSession(engines, async (s) => s.appendAudio(sequence(silence(300), um, silence(900))));
    const transcript = events.find((e) => e.type === 'conversation.item.input_audio_transcription.completed');
    const ignored = events.find((e) => e.type === 'omnilive.turn.ignored');
    assert.ok(transcript, 'transcribed');
    assert.ok(ignored, `ignored (heard '${transcript?.transcript}')`);
    assert.ok(!types(events).includes('response.created'));
  });
});
