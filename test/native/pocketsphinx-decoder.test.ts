import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PocketsphinxDecoder, loadNativeAddon, pocketsphinxDefaults } from '../../native/index.ts';

const defaults = pocketsphinxDefaults();

describe('PocketsphinxDecoder (native addon)', () => {
  let decoder: PocketsphinxDecoder;
  before(async () => {
    decoder = await PocketsphinxDecoder.create(defaults);
  });
  after(() => decoder.close());

  it('rejects bad options with TypeError', async () => {
    const bad: unknown[] = [
      undefined,
      'x',
      { ...defaults, hmm: 42 },
      { ...defaults, dict: '' },
      { ...defaults, lm: null },
      { ...defaults, sampleRate: 1.5 },
      { ...defaults, sampleRate: '16000' },
      { ...defaults, sampleRate: 1000 },
    ];
    for (const options of bad) {
      await assert.rejects(PocketsphinxDecoder.create(options as never), (e: Error) => {
        assert.ok(e instanceof TypeError, `${String(e)}`);
        assert.match(e.message, /^invalid parameter: expected .+, got /);
        return true;
      });
    }
  });

  it('rejects missing model files with a clear Error', async () => {
    await assert.rejects(PocketsphinxDecoder.create({ ...defaults, dict: '/nonexistent/x.dict' }), /options.dict file not found/);
    await assert.rejects(PocketsphinxDecoder.create({ ...defaults, hmm: '/tmp' }), /options.hmm file not found: \/tmp\/mdef/);
  });

  it('cannot be constructed from JS', () => {
    const Native = loadNativeAddon().PocketsphinxDecoder as unknown as new () => unknown;
    assert.throws(() => new Native(), TypeError);
  });

  it('runs an utterance of silence', async () => {
    await decoder.start();
    const partial = await decoder.process(new Int16Array(1600));
    assert.deepEqual(partial, { hypothesis: '', inSpeech: false });
    assert.deepEqual(await decoder.process(new Int16Array(0)), { hypothesis: '', inSpeech: false });
    assert.deepEqual(await decoder.end(), { hypothesis: '' });
  });

  it('rejects non-Int16Array audio with TypeError', async () => {
    await decoder.start();
    for (const pcm of [new Float32Array(160), [0, 1, 2], Buffer.alloc(320), null, 'pcm']) {
      await assert.rejects(decoder.process(pcm as never), /^TypeError: invalid parameter: expected Int16Array for pcm/);
    }
    await decoder.end();
  });

  it('rejects calls in the wrong state', async () => {
    await assert.rejects(decoder.process(new Int16Array(160)), /no utterance started/);
    await assert.rejects(decoder.end(), /no utterance started/);
    await decoder.start();
    await assert.rejects(decoder.start(), /utterance already started/);
    const running = decoder.process(new Int16Array(16000));
    await assert.rejects(decoder.process(new Int16Array(160)), /previous call is still running/);
    await running;
    await decoder.end();
  });

  it('close is idempotent, safe during a call, and later calls reject', async () => {
    const d = await PocketsphinxDecoder.create(defaults);
    await d.start();
    const noise = Int16Array.from({ length: 16000 * 5 }, () => (Math.random() - 0.5) * 2000);
    const running = d.process(noise);
    d.close(); // the free waits for the running call
    d.close();
    assert.equal(d.closed, true);
    await running; // completes normally, no crash
    await assert.rejects(d.process(new Int16Array(160)), /PocketsphinxDecoder is closed/);
    await assert.rejects(d.start(), /PocketsphinxDecoder is closed/);
    await assert.rejects(d.end(), /PocketsphinxDecoder is closed/);
  });

  it('creates decoders concurrently', async () => {
    const ds = await Promise.all([PocketsphinxDecoder.create(defaults), PocketsphinxDecoder.create(defaults)]);
    for (const d of ds) d.close();
  });
});
