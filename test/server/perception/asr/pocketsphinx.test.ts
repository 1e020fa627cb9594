import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PocketsphinxAsrEngine } from '../../../../server/perception/asr/pocketsphinx.ts';
import type { AsrRecognizer } from '../../../../server/perception/asr/types.ts';
import { closeSpeech, sequence, silence, speak } from '../../../helpers/speech.ts';
import type { FliteVoice } from '../../../../server/speech/index.ts';

/** A Flite sentence with a little trailing silence, like a VAD-cut utterance has. */
async function synthesize(text: string, voice: FliteVoice = 'slt'): Promise<Int16Array> {
  return sequence(await speak(text, { voice }), silence(300));
}

const CHUNK = 1600; // 100 ms

/** Feeds the whole utterance in 100 ms chunks, awaiting each; returns the partials. */
async function feed(recognizer: AsrRecognizer, pcm: Int16Array): Promise<string[]> {
  const partials: string[] = [];
  for (let i = 0; i < pcm.length; i += CHUNK) partials.push(await recognizer.accept(pcm.subarray(i, i + CHUNK)));
  return partials;
}

function wordsFound(expected: string, text: string): number {
  const got = new Set(text.split(/\s+/));
  return expected.split(' ').filter((w) => got.has(w)).length;
}

describe('PocketsphinxAsrEngine', () => {
  const engine = new PocketsphinxAsrEngine();
  const WEATHER = 'what is the weather like today';
  const STORY = 'tell me a long story about the sea';
  const CAR = 'what is the color of the car';
  let weather: Int16Array;
  let story: Int16Array;
  let car: Int16Array;

  before(async () => {
    weather = await synthesize(WEATHER);
    story = await synthesize(STORY);
    car = await synthesize(CAR, 'awb');
  });
  after(async () => {
    await engine.close();
    await closeSpeech();
  });

  it('streams partials and transcribes a sentence', async () => {
    const recognizer = await engine.createRecognizer();
    recognizer.start();
    const partials = await feed(recognizer, weather);
    const result = await recognizer.finish();
    // Measured: "what is the weather like today" (all 6 words) for slt; allow some slack.
    assert.ok(wordsFound(WEATHER, result.text) >= 4, `final: "${result.text}"`);
    assert.equal(result.text, result.text.toLowerCase());
    assert.ok(partials.some((p) => wordsFound(WEATHER, p) >= 2), `partials: ${JSON.stringify(partials)}`);
    assert.ok(result.computeMs >= 0 && result.computeMs < 5000);
    recognizer.close();
  });

  it('copies audio: a reused buffer and unawaited accepts still decode right', async () => {
    const recognizer = await engine.createRecognizer();
    recognizer.start();
    const scratch = new Int16Array(CHUNK);
    const pending: Promise<string>[] = [];
    for (let i = 0; i < story.length; i += CHUNK) {
      scratch.fill(0);
      scratch.set(story.subarray(i, i + CHUNK));
      pending.push(recognizer.accept(scratch));
    }
    scratch.fill(0);
    const { text } = await recognizer.finish();
    await Promise.all(pending);
    assert.ok(wordsFound(STORY, text) >= 5, `final: "${text}"`);
    recognizer.close();
  });

  it('decodes two recognizers concurrently without mixing them', async () => {
    const [a, b] = await Promise.all([engine.createRecognizer(), engine.createRecognizer()]);
    a.start();
    b.start();
    const [ra, rb] = await Promise.all([feed(a, story).then(() => a.finish()), feed(b, car).then(() => b.finish())]);
    assert.ok(wordsFound(STORY, ra.text) >= 5, `a: "${ra.text}"`);
    assert.ok(wordsFound(CAR, rb.text) >= 4, `b: "${rb.text}"`);
    assert.doesNotMatch(ra.text, /color|car/);
    assert.doesNotMatch(rb.text, /story|sea/);
    a.close();
    b.close();
  });

  it('cancel() and start() drop the running utterance', async () => {
    const recognizer = await engine.createRecognizer();
    recognizer.start();
    await feed(recognizer, story.subarray(0, story.length / 2));
    recognizer.cancel();
    await assert.rejects(recognizer.accept(weather), /without start/);
    recognizer.start();
    void recognizer.accept(car.subarray(0, car.length / 2));
    recognizer.start(); // drops the half-fed car sentence
    await feed(recognizer, weather);
    const { text } = await recognizer.finish();
    assert.ok(wordsFound(WEATHER, text) >= 4, `final: "${text}"`);
    assert.doesNotMatch(text, /story|sea|color|car/);
    recognizer.start();
    assert.equal((await recognizer.finish()).text, '', 'utterance without audio');
    recognizer.close();
  });

  it('finish() honours an abort signal and the recognizer stays usable', async () => {
    const recognizer = await engine.createRecognizer();
    recognizer.start();
    await feed(recognizer, car);
    await assert.rejects(recognizer.finish(AbortSignal.abort()), { name: 'AbortError' });
    recognizer.start();
    await feed(recognizer, weather);
    const { text } = await recognizer.finish(new AbortController().signal);
    assert.ok(wordsFound(WEATHER, text) >= 4, `final: "${text}"`);
    recognizer.close();
  });

  it('close() is idempotent, mid-utterance too; engine.close() closes recognizers', async () => {
    const local = new PocketsphinxAsrEngine();
    const recognizer = await local.createRecognizer();
    recognizer.start();
    const pending = recognizer.accept(story);
    recognizer.close();
    recognizer.close();
    assert.equal(recognizer.closed, true);
    await pending; // resolves (the call already ran) or to '' — never crashes
    await assert.rejects(recognizer.accept(story), { name: 'InvalidStateError' });
    await assert.rejects(recognizer.finish(), { name: 'InvalidStateError' });
    const other = await local.createRecognizer();
    await local.close();
    await local.close();
    assert.equal(other.closed, true);
    await assert.rejects(local.createRecognizer(), { name: 'InvalidStateError' });
  });
});
