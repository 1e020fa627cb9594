import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { loadConfig } from '../../../server/config.ts';
import { createEngines } from '../../../server/engines.ts';
import { FFMPEG_PATH } from '../../../server/ingest/decode.ts';
import { FrameFactsScheduler, type FactsReader, type FrameFacts } from '../../../server/perception/video/facts.ts';
import { decodeImage } from '../../../server/perception/video/pipeline.ts';
import type { VideoFrame } from '../../../server/perception/video/types.ts';
import { Session, type SessionEngines } from '../../../server/session/session.ts';
import type { ServerEvent, SessionSettings } from '../../../server/session/types.ts';
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

const types = (events: ServerEvent[]) => events.map((e): string => e.type);

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

const FONT = '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf';

/** A frame of a white screen with black text, as a camera would send it (drawn by ffmpeg). */
async function sign(text: string, t: number): Promise<VideoFrame> {
  const font = fs.existsSync(FONT) ? `fontfile=${FONT}:` : '';
  const r = spawnSync(FFMPEG_PATH, ['-loglevel', 'error', '-f', 'lavfi', '-i', 'color=c=white:s=640x360', '-vf', `drawtext=${font}text='${text}':fontsize=56:fontcolor=black:x=(w-tw)/2:y=(h-th)/2`, '-frames:v', '1', '-f', 'image2pipe', '-vcodec', 'mjpeg', '-']);
  assert.equal(r.status, 0, r.stderr.toString());
  return decodeImage(r.stdout, t);
}

/** Reads the same sign on every keyframe, after `ms`: keyframe facts that take their time. */
function slowReader(ms: number): FactsReader {
  return {
    names: { ocr: 'fake-ocr' },
    async read(): Promise<FrameFacts> {
      await delay(ms);
      return { ocr: [{ text: 'EXIT 12', score: 1, box: [0, 0, 1, 1] }], objects: [], skipped: [] };
    },
    async close() {},
  };
}

describe('Session: the scene on screen when a question is answered', () => {
  let engines: Engines;
  let dir: string;
  let frames: VideoFrame[];
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'omnilive-scene-'));
    engines = await createEngines(loadConfig({ 'vision.enabled': 'on', 'vision.facts': 'ocr', 'vision.modelsDir': '/nonexistent', 'memory.enabled': 'on', dataDir: dir }, {}));
    const first = await sign('EXIT 12', 0);
    // Eight seconds of one scene at 1 fps: half a clip, so the clipper alone would not cut it yet.
    frames = Array.from({ length: 8 }, (_, i) => ({ ...first, t: i * 1000 }));
  });
  after(async () => {
    await engines.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** A session with these engines; its events; a typed question and its answer. */
  async function open(settings: Partial<SessionSettings>, vision = engines.vision) {
    const session = new Session({ engines: { ...engines, vision } as SessionEngines, settings: { inputRate: 16000, modalities: ['text'], ...settings } });
    const events: ServerEvent[] = [];
    session.on('event', (e) => events.push(e));
    await session.open();
    const ask = async (text: string) => {
      session.addMessage('user', text);
      const response = session.createResponse();
      const started = performance.now();
      await response.start();
      return { response, ms: performance.now() - started };
    };
    const clips = () => events.filter((e) => e.type === 'omnilive.clip.committed').map((e) => e.clip as Record<string, any>);
    return { session, events, ask, clips };
  }

  it('the open clip is cut at the question, and the answer reads its text (media clock)', async () => {
    const { session, ask, clips } = await open({ clock: 'media' });
    for (const f of frames.slice(0, 5)) session.appendVideoFrame(f);
    await session.videoIdle();
    assert.deepEqual(clips(), [], 'five frames of one scene: no clip yet');
    const { response } = await ask('what is on the screen right now?');
    assert.equal(response.status, 'completed');
    assert.match(response.text, /EXIT 12/);
    // The cut clip is an ordinary, shorter clip: in memory, in the recent clips, announced.
    assert.deepEqual(clips().map((c) => [c.start_ms, c.end_ms, c.frame_count]), [[0, 5000, 5]]);
    assert.match(clips()[0]!.ocr_text, /EXIT 12/);
    assert.deepEqual(session.recentClips.map((c) => c.id), [clips()[0]!.id]);
    // The scene goes on in the next clip; ids and times follow on; a question with no frame open cuts nothing.
    for (const f of frames.slice(5)) session.appendVideoFrame(f);
    session.endVideo();
    await session.videoIdle();
    await ask('what is on the screen now?');
    const all = clips();
    assert.deepEqual(all.map((c) => [c.start_ms, c.end_ms, c.frame_count]), [[0, 5000, 5], [5000, 8000, 3]]);
    const number = (id: string) => Number(id.split('_').at(-1));
    assert.equal(number(all[1]!.id), number(all[0]!.id) + 1);
    session.close();
  });

  it('a question with no frames, or without vision, answers as before', async () => {
    for (const vision of [engines.vision, undefined]) {
      const { session, ask, clips } = await open({ clock: 'media' }, vision);
      const { response } = await ask('what is on the screen right now?');
      assert.equal(response.status, 'completed');
      assert.deepEqual(clips(), []);
      session.close();
    }
  });

  it('live clock: the answer waits a little for the scene’s facts, and no longer', async () => {
    const quick = new FrameFactsScheduler(slowReader(50));
    const live = await open({ clock: 'live' }, { comparer: engines.vision!.comparer, facts: quick });
    for (const f of frames.slice(0, 3)) live.session.appendVideoFrame(f);
    const fast = await live.ask('what is on the screen right now?');
    assert.match(fast.response.text, /EXIT 12/);
    live.session.close();

    const late = await open({ clock: 'live' }, { comparer: engines.vision!.comparer, facts: new FrameFactsScheduler(slowReader(3000)) });
    for (const f of frames.slice(0, 3)) late.session.appendVideoFrame(f);
    const slow = await late.ask('what is on the screen right now?');
    assert.equal(slow.response.status, 'completed');
    assert.doesNotMatch(slow.response.text, /EXIT 12/, 'facts 3 s late are not waited for');
    assert.ok(slow.ms < 1500, `answered in ${Math.round(slow.ms)} ms`);
    assert.deepEqual(late.clips(), []);
    // The clip still reaches memory when its facts come: the next question sees it.
    await late.session.videoIdle();
    assert.deepEqual(late.clips().map((c) => c.frame_count), [3]);
    const next = await late.ask('what is on the screen right now?');
    assert.match(next.response.text, /EXIT 12/);
    late.session.close();
  });
});
