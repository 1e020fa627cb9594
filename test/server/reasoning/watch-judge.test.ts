import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { OpenAICompatibleReasoner } from '../../../server/reasoning/llm/openai-compatible.ts';
import type { Reasoner } from '../../../server/reasoning/llm/types.ts';
import { reasonerJudge } from '../../../server/reasoning/watch/judge.ts';
import type { Watch, WatchJudge } from '../../../server/reasoning/watch/types.ts';
import { clipFacts, WatchChecker, type ClipObservation } from '../../../server/reasoning/watch/watch-checker.ts';
import { judgedRule } from '../../../server/reasoning/watch/watch-request.ts';
import { contentText, startFakeLlm, type ContentPart, type FakeLlm } from '../../helpers/fake-llm.ts';

const signal = new AbortController().signal;
const JPEG = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 0xff, 0xd9]);

function judgedWatch(condition = 'the delivery van is outside'): Watch {
  return { id: 'w1', memoryId: 'm1', createdAt: 0, firedCount: 0, condition, rule: judgedRule(condition), mode: 'once', cooldownMs: 0 };
}

function clip(startMs: number, withKeyframe = false): ClipObservation {
  return {
    kind: 'clip', startMs, endMs: startMs + 4000, ocrText: 'PARCEL DELIVERY\nDHL', objects: [{ label: 'truck', count: 1 }, { label: 'person', count: 2 }],
    sceneChange: true, ...(withKeyframe ? { keyframeJpeg: async () => JPEG } : {}),
  };
}

/** A judge answering from a script, recording what it was asked. */
function scriptedJudge(answers: (boolean | Error)[]): WatchJudge & { calls: { question: string; facts: string; jpeg?: Uint8Array }[] } {
  const calls: { question: string; facts: string; jpeg?: Uint8Array }[] = [];
  return {
    calls,
    async judge(question, facts, jpeg) {
      calls.push({ question, facts, jpeg });
      const answer = answers.shift() ?? false;
      if (answer instanceof Error) throw answer;
      return answer;
    },
  };
}

describe('WatchChecker with a judge', () => {
  it('asks about clips only, with the question, the facts and the keyframe, and fires when the answer turns yes', async () => {
    const judge = scriptedJudge([false, true, true]);
    let t = 0;
    const checker = new WatchChecker(judgedWatch(), { judge, judgeIntervalMs: 5000, now: () => t });
    assert.equal(checker.check({ kind: 'utterance', role: 'user', text: 'the van is here', startMs: 0, endMs: 1 }, signal), undefined);
    assert.equal(await checker.check(clip(0, true), signal), undefined);
    t = 5000;
    assert.deepEqual(await checker.check(clip(5000), signal), { mediaMs: 5000, kind: 'clip', text: 'it looked as if the delivery van is outside' });
    t = 10_000;
    assert.equal(await checker.check(clip(10_000), signal), undefined, 'still yes: not news');
    assert.equal(judge.calls.length, 3);
    assert.match(judge.calls[0]!.question, /the delivery van is outside/);
    assert.deepEqual(judge.calls[0]!.jpeg, JPEG);
    assert.equal(judge.calls[1]!.jpeg, undefined);
    assert.equal(judge.calls[0]!.facts, clipFacts(clip(0)));
    assert.match(judge.calls[0]!.facts, /Text on screen: "PARCEL DELIVERY", "DHL"\./);
    assert.match(judge.calls[0]!.facts, /Objects: truck ×1, person ×2\./);
  });

  it('asks at most once per interval and one question at a time', async () => {
    let release!: (yes: boolean) => void;
    let calls = 0;
    const slow: WatchJudge = { judge: () => (calls++, new Promise((resolve) => (release = resolve))) };
    let t = 0;
    const checker = new WatchChecker(judgedWatch(), { judge: slow, judgeIntervalMs: 5000, now: () => t });
    const first = checker.check(clip(0), signal);
    assert.ok(first instanceof Promise);
    t = 6000;
    assert.equal(checker.check(clip(4000), signal), undefined, 'the first question is still open');
    release(false);
    assert.equal(await first, undefined);
    t = 6500;
    const second = checker.check(clip(8000), signal);
    assert.ok(second instanceof Promise, 'open again, and 6.5 s after the last question');
    release(true);
    assert.equal((await second)?.mediaMs, 8000);
    t = 11_000;
    assert.equal(checker.check(clip(12_000), signal), undefined, 'asked 4.5 s ago');
    t = 11_500;
    assert.ok(checker.check(clip(16_000), signal) instanceof Promise);
    assert.equal(calls, 3);
    release(false);
  });

  it('a failing judge is counted and reported, never thrown; no judge, no question', async () => {
    const errors: unknown[] = [];
    let t = 0;
    const judge = scriptedJudge([new Error('server down'), true]);
    const checker = new WatchChecker(judgedWatch(), { judge, judgeIntervalMs: 10, now: () => t, onJudgeError: (e) => errors.push(e) });
    assert.equal(await checker.check(clip(0), signal), undefined);
    assert.equal(checker.judgeErrors, 1);
    assert.equal((errors[0] as Error).message, 'server down');
    t = 20;
    assert.ok(await checker.check(clip(4000), signal), 'the next question is asked again');
    assert.equal(new WatchChecker(judgedWatch()).check(clip(0), signal), undefined);
  });
});

describe('reasonerJudge over an OpenAI-compatible server', () => {
  let llm: FakeLlm;
  before(async () => {
    llm = await startFakeLlm((text) => (text.includes('van') ? 'Yes.' : 'no'));
  });
  after(() => llm.close());

  it('sends the question, the facts and the keyframe; maps yes and no', async () => {
    const judge = reasonerJudge(new OpenAICompatibleReasoner({ baseURL: llm.url, model: 'judge-model' }))!;
    assert.ok(judge);
    const facts = clipFacts(clip(62_000));
    assert.equal(await judge.judge('Is the van outside?', facts, JPEG, signal), true);
    const sent = llm.requests.at(-1)! as typeof llm.requests[number] & { temperature?: number };
    assert.equal(sent.model, 'judge-model');
    assert.equal(sent.stream ?? false, false);
    assert.equal(sent.temperature, 0);
    assert.ok(sent.max_tokens !== undefined && sent.max_tokens <= 5);
    const user = sent.messages.at(-1)!.content as ContentPart[];
    assert.ok(Array.isArray(user), 'text and image parts');
    const text = contentText(user);
    assert.match(text, /Is the van outside\?/);
    assert.match(text, /Clip 01:02–01:06/);
    assert.match(text, /PARCEL DELIVERY/);
    const image = user.find((p) => p.type === 'image_url');
    assert.equal(image?.type === 'image_url' && image.image_url.url, `data:image/jpeg;base64,${Buffer.from(JPEG).toString('base64')}`);

    assert.equal(await judge.judge('Is the cat asleep?', facts, undefined, signal), false);
    assert.equal(typeof llm.requests.at(-1)!.messages.at(-1)!.content, 'string', 'no keyframe: plain text');
  });

  it('a checker over it asks the server at most once per interval', async () => {
    const judge = reasonerJudge(new OpenAICompatibleReasoner({ baseURL: llm.url, model: 'judge-model' }))!;
    const checker = new WatchChecker(judgedWatch(), { judge, judgeIntervalMs: 60_000 });
    const before = llm.requests.length;
    const results = await Promise.all([0, 4000, 8000].map((ms) => checker.check(clip(ms, true), signal)));
    assert.equal(llm.requests.length - before, 1);
    assert.deepEqual(results.map((r) => r?.mediaMs), [0, undefined, undefined]);
  });

  it('a reasoner without judgeWatch gives no judge', () => {
    const plain: Reasoner = { name: 'embedded', usesLanguageModel: false, async *respond() {}, async close() {} };
    assert.equal(reasonerJudge(plain), undefined);
  });
});
