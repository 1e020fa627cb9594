import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ServerEvent } from '../../../server/protocol/server-events.ts';
import type { SoundEvent, SoundEventEngine, SoundEventSink } from '../../../server/perception/sound/types.ts';
import { WatchBook } from '../../../server/reasoning/watch/watch-book.ts';
import type { Observation } from '../../../server/reasoning/watch/types.ts';
import { OpenAICompatibleReasoner } from '../../../server/reasoning/llm/openai-compatible.ts';
import { Session, type SessionEngines } from '../../../server/session/session.ts';
import type { SessionSettings } from '../../../server/session/types.ts';
import { ScriptedAsr, ScriptedReasoner, ToneTts, concat, loud, quiet, standInEngines } from '../../helpers/stand-ins.ts';
import { startFakeLlm } from '../../helpers/fake-llm.ts';

/** Reports each scripted sound once the audio pushed reaches its start (as a detector would, at its end). */
class ScriptedSounds implements SoundEventEngine {
  readonly name = 'scripted-sounds';
  readonly labels = ['alarm'];
  constructor(readonly sounds: SoundEvent[]) {}
  open(sink: SoundEventSink) {
    const pending = [...this.sounds];
    return {
      push(pcm: Int16Array, startMs: number) {
        const endMs = startMs + (pcm.length / 16000) * 1000;
        while (pending.length && pending[0]!.endMs <= endMs) sink.onEvent(pending.shift()!);
      },
      async flush() {},
      close() {},
    };
  }
  async close() {}
}

async function session(engines: Partial<SessionEngines>, settings: Partial<SessionSettings> = {}) {
  const s = new Session({ engines: standInEngines(engines), settings: { inputRate: 16000, modalities: ['text'], clock: 'media', ...settings } });
  const events: ServerEvent[] = [];
  s.on('event', (e) => events.push(e));
  await s.open();
  const types = () => events.map((e): string => e.type);
  const waitFor = async (type: string, match: (e: any) => boolean = () => true, timeoutMs = 10_000) => {
    const until = performance.now() + timeoutMs;
    for (;;) {
      const found = events.find((e) => e.type === type && match(e));
      if (found) return found as any;
      if (performance.now() > until) throw new Error(`no ${type} in ${timeoutMs} ms; saw ${types().join(', ')}`);
      await sleep(10);
    }
  };
  return { s, events, types, waitFor };
}

const clip = (startMs: number, ocrText: string, objects: { label: string; count: number }[] = []): Observation => ({ kind: 'clip', startMs, endMs: startMs + 1000, ocrText, objects, sceneChange: false });
const proactive = (e: any) => e.response?.metadata?.proactive === 'true';
const answerText = (e: any) => e.response.output.map((o: any) => o.content.map((p: any) => p.text ?? p.transcript ?? '').join(' ')).join(' ');

describe('Watches in a session (engine stand-ins)', () => {
  it('"tell me when someone says banana": made and confirmed in one sentence; a later "banana" fires it at that utterance and the assistant speaks up unasked after its answer', async () => {
    const { s, events, types, waitFor } = await session({ asr: new ScriptedAsr(['tell me when someone says banana', 'i had banana bread today']) });
    s.appendAudio(concat(quiet(200), loud(600), quiet(800)));
    await s.idle();
    const confirmed = await waitFor('response.done');
    assert.equal(confirmed.response.metadata?.watch_request, 'created');
    assert.match(answerText(confirmed), /banana/i, 'the confirmation names the condition');
    assert.equal(answerText(confirmed).split(/[.!?](\s|$)/).filter((x: string) => x && x.trim()).length, 1, 'one sentence');
    const created = await waitFor('omnilive.watch.created');
    assert.equal(created.watch.rule.kind, 'phrase');
    assert.ok(!types().includes('omnilive.watch.fired'), 'the request itself does not fire its watch');

    s.appendAudio(concat(loud(700), quiet(800)));
    await s.idle();
    const fired = await waitFor('omnilive.watch.fired');
    assert.equal(fired.watch_id, created.watch.id);
    assert.ok(fired.media_ms >= 1600 && fired.media_ms <= 1700, `the evidence is the second utterance (starts at 1600 ms): ${fired.media_ms}`);
    const unasked = await waitFor('response.created', proactive);
    assert.equal(unasked.response.metadata.watch_id, created.watch.id);
    const t = types();
    const secondAnswerDone = t.indexOf('response.done', t.indexOf('response.done') + 1);
    assert.ok(secondAnswerDone >= 0 && t.indexOf('response.created', secondAnswerDone) === events.indexOf(unasked), 'the unasked answer waits for the answer in flight');
    const said = await waitFor('response.done', proactive);
    assert.match(answerText(said), /banana/i);
    assert.equal((await s.watches.spec({ condition: 'someone says banana' })).rule.kind, 'phrase');
    const left = await new Promise<any>((resolve) => {
      s.on('event', (e) => e.type === 'omnilive.watch.listed' && resolve(e));
      void s.watches.list();
    });
    assert.equal(left.watches.length, 0, 'a once watch ends after firing');
    s.close();
  });

  it('never speaks over the person: a sound during their speech is announced only after the turn, and a barge-in cancels the unasked answer', async () => {
    const sounds = new ScriptedSounds([
      { label: 'alarm', startMs: 500, endMs: 900, score: 0.9 }, // while the person speaks (300–1800 ms)
      { label: 'alarm', startMs: 4000, endMs: 4400, score: 0.9 }, // in silence
    ]);
    const { s, events, types, waitFor } = await session(
      { asr: new ScriptedAsr(['what time is it', 'stop']), sounds, tts: new ToneTts({ msPerWord: 150 }), reasoner: new ScriptedReasoner({ answers: ['Hi.'] }) },
      { modalities: ['audio'], clock: 'live' },
    );
    await s.watches.create({ condition: 'the alarm goes off', mode: 'every', cooldownMs: 1000 });
    s.appendAudio(concat(quiet(300), loud(1500)));
    const fired = await waitFor('omnilive.watch.fired');
    assert.equal(fired.media_ms, 500);
    assert.ok(!types().includes('input_audio_buffer.speech_stopped'), 'it fired while the person was still speaking');
    s.appendAudio(quiet(1000));
    const unasked = await waitFor('response.created', proactive);
    const t = types();
    const stopped = t.indexOf('input_audio_buffer.speech_stopped');
    const answered = t.indexOf('response.done');
    assert.ok(stopped >= 0 && stopped < events.indexOf(unasked), 'not before the person stopped');
    assert.ok(answered >= 0 && answered < events.indexOf(unasked), `not before their turn's answer ended: ${t.join(", ")}`);
    await waitFor('response.done', proactive);

    // The second alarm is announced in silence; the person talks over it and it stops.
    await sleep(1000); // the watch's cooldown
    s.appendAudio(quiet(2000));
    const second = await waitFor('response.output_audio.delta', (e) => events.some((c: any) => c.type === 'response.created' && proactive(c) && c.response.id === e.response_id && c !== unasked));
    assert.ok(second);
    s.appendAudio(loud(600));
    const cancelled = await waitFor('response.done', (e) => proactive(e) && e.response.status === 'cancelled');
    assert.equal(cancelled.response.metadata.watch_id, fired.watch_id);
    s.close();
  });

  it('by event: once ends after firing, every waits out its cooldown, an expired or deleted watch never fires, an unreadable condition is refused by name', async () => {
    const book = new WatchBook();
    const { s, events, waitFor } = await session({ watches: book });
    const once = await s.watches.create({ condition: 'the screen says EXIT' });
    const every = await s.watches.create({ condition: 'the screen says GATE', mode: 'every', cooldownMs: 1000 });
    const deleted = await s.watches.create({ condition: 'the screen says TRAIN' });
    const expiring = await s.watches.create({ condition: 'the screen says BUS', expiresInMs: 1000 });
    await s.watches.delete(deleted.id);
    await assert.rejects(s.watches.delete(deleted.id), (e: any) => e.code === 'watch_not_found');
    assert.throws(() => s.watches.spec({ condition: 'my mood improves' }), (e: any) => e.code === 'watch_condition_unsupported' && /language model/.test(e.message));

    s.watches.observe(clip(0, 'WELCOME'));
    s.watches.observe(clip(1000, 'EXIT\nGATE B17'));
    s.watches.observe(clip(2000, 'TRAIN'));
    s.watches.observe(clip(2500, 'GATE B17')); // back within the cooldown
    await s.watches.idle();
    const fired = () => events.filter((e: any) => e.type === 'omnilive.watch.fired') as any[];
    assert.deepEqual(fired().map((e) => [e.watch_id, e.media_ms]).sort(), [[every.id, 1000], [once.id, 1000]].sort(), 'each fires once when the text appears; not during the cooldown; the deleted one never');
    await sleep(1100);
    s.watches.observe(clip(2800, 'BUS'));
    s.watches.observe(clip(3000, 'GATE B17\nBUS'));
    await s.watches.idle();
    assert.deepEqual(fired().slice(2).map((e) => [e.watch_id, e.media_ms]), [[every.id, 3000]], 'every fires again when the text appears after its cooldown; the expired one not at all');
    assert.deepEqual((await book.of(s.memoryId)).map((w) => w.id), [every.id], 'once and expired watches are gone');
    assert.equal((await book.of(s.memoryId))[0]!.firedCount, 2);
    await waitFor('response.done', proactive);
    void expiring;
    s.close();
  });

  it('a condition the rules cannot read is judged by the language model on each new clip (scripted OpenAI-compatible server)', async () => {
    const asked: string[] = [];
    const llm = await startFakeLlm((question, request) => {
      const all = request.messages.map((m: any) => (typeof m.content === 'string' ? m.content : m.content.map((p: any) => p.text ?? '').join(' '))).join('\n');
      asked.push(all);
      return /umbrella/i.test(all) && /raining/i.test(all) ? 'yes' : 'no';
    });
    try {
      const reasoner = new OpenAICompatibleReasoner({ baseURL: llm.url, model: 'scripted' });
      const { s, waitFor } = await session({ reasoner });
      const watch = await s.watches.create({ condition: 'it looks like it is raining' });
      assert.equal(watch.rule.kind, 'judged');
      s.watches.observe(clip(6000, 'BRING AN UMBRELLA', [{ label: 'umbrella', count: 2 }]));
      await s.watches.idle();
      const fired = await waitFor('omnilive.watch.fired');
      assert.equal(fired.media_ms, 6000);
      assert.ok(asked.length >= 1 && asked.every((a) => /raining/.test(a) && /UMBRELLA/.test(a)), 'the judge was given the condition and the clip\'s facts');
      s.close();
    } finally {
      await llm.close();
    }
  });
});
