import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
// Imported from their own files: memory/index.ts would load LanceDB for nothing.
import { TranscriptLog } from '../../../memory/transcript-log.ts';
import { opsMetrics } from '../../../server/ops/metrics.ts';
import { OpenAICompatibleReasoner } from '../../../server/reasoning/llm/openai-compatible.ts';
import { LanguageModelError } from '../../../server/reasoning/llm/failures.ts';
import { inTurn, startFakeLlm, type FakeLlm, type FakeReply } from '../../helpers/fake-llm.ts';

// Short waits keep the file quick; the slack absorbs a loaded CI machine. Cases that end in a
// refusal or a stall use a roomier first-token budget, so a slow first request still leaves
// time for the retry.
const FIRST_TOKEN_MS = 600;
const ROOMY_FIRST_TOKEN_MS = 3000;
const IDLE_MS = 300;
const SLACK_MS = 3000;

function request(question: string) {
  const transcript = new TranscriptLog();
  transcript.add({ id: 'q', role: 'user', text: question, startMs: 0, endMs: 1000 });
  return { question, questionId: 'q', conversation: [], transcript, nowMs: 1000, evidence: [], images: [] };
}

async function failures(kind: string): Promise<number> {
  const metric = await opsMetrics.llmFailures.get();
  return metric.values.find((v) => v.labels.kind === kind)?.value ?? 0;
}

/** Runs one answer; resolves with its text, or the LanguageModelError it ended with, and how long it took. */
async function answer(reasoner: OpenAICompatibleReasoner, question: string): Promise<{ text: string; error?: LanguageModelError; ms: number }> {
  const t0 = performance.now();
  let text = '';
  try {
    for await (const d of reasoner.respond(request(question), new AbortController().signal)) if (d.type === 'text') text += d.text;
    return { text, ms: performance.now() - t0 };
  } catch (error) {
    assert.ok(error instanceof LanguageModelError, `not a LanguageModelError: ${error}`);
    return { text, error, ms: performance.now() - t0 };
  }
}

describe('OpenAICompatibleReasoner when the model server fails', () => {
  let llm: FakeLlm;
  /** For refusals and stalls: time enough for the retry. */
  let reasoner: OpenAICompatibleReasoner;
  /** For hangs: a short first-token timeout. */
  let quick: OpenAICompatibleReasoner;
  const scripts = new Map<string, () => FakeReply>();
  before(async () => {
    // Each question names its own script, so the cases cannot disturb each other.
    llm = await startFakeLlm((q) => scripts.get(q)?.() ?? 'The mug is on the shelf.', 5);
    reasoner = new OpenAICompatibleReasoner({ baseURL: llm.url, model: 'm', firstTokenTimeoutMs: ROOMY_FIRST_TOKEN_MS, idleTimeoutMs: IDLE_MS });
    quick = new OpenAICompatibleReasoner({ baseURL: llm.url, model: 'm', firstTokenTimeoutMs: FIRST_TOKEN_MS, idleTimeoutMs: IDLE_MS });
    // The process's first HTTP request pays for warming up the client (hundreds of ms under load).
    await answer(reasoner, 'warm up');
  });
  after(() => llm.close());

  it('asks once more after a refusal (500) and streams the answer of the retry', async () => {
    scripts.set('refused once', inTurn({ fault: 'refuse', status: 500 }, 'Second time lucky.'));
    const before = await failures('refused');
    const r = await answer(reasoner, 'refused once');
    assert.equal(r.error, undefined);
    assert.equal(r.text, 'Second time lucky.');
    assert.equal(await failures('refused'), before + 1, 'the failed request is counted');
  });

  it('gives up after the retry is refused too (429), as llm_refused', async () => {
    scripts.set('rate limited', () => ({ fault: 'refuse', status: 429 }));
    const before = await failures('refused');
    const sent = llm.requests.length;
    const r = await answer(reasoner, 'rate limited');
    assert.equal(r.error?.kind, 'refused');
    assert.equal(r.error?.code, 'llm_refused');
    assert.match(r.error!.message, /HTTP 429/);
    assert.equal(llm.requests.length - sent, 2, 'one request and one retry, no more');
    assert.equal(await failures('refused'), before + 2);
  });

  it('ends a request that gets no headers within the first-token timeout', async () => {
    scripts.set('hang', () => ({ fault: 'hang' }));
    const before = await failures('timeout');
    const r = await answer(quick, 'hang');
    assert.equal(r.error?.kind, 'timeout');
    assert.equal(r.error?.apology, 'Sorry, the language model did not answer in time.');
    assert.ok(r.ms >= FIRST_TOKEN_MS - 50 && r.ms < FIRST_TOKEN_MS + SLACK_MS, `${Math.round(r.ms)} ms`);
    assert.equal(await failures('timeout'), before + 1);
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(llm.aborted >= 1, 'the hung request was closed');
  });

  it('ends a stream that stalls after a few tokens, keeping the tokens that came, and does not retry', async () => {
    scripts.set('stall', () => ({ fault: 'stall', text: 'The kettle is on the stove and boiling.', after: 3 }));
    const before = await failures('stalled');
    const sent = llm.requests.length;
    const r = await answer(reasoner, 'stall');
    assert.equal(r.error?.kind, 'stalled');
    assert.equal(r.text, 'The kettle is ');
    assert.ok(r.ms < 3 * 5 + IDLE_MS + SLACK_MS, `${Math.round(r.ms)} ms`);
    assert.equal(llm.requests.length - sent, 1, 'tokens went out: asking again would repeat them');
    assert.equal(await failures('stalled'), before + 1);
  });

  it('counts a connection cut mid-stream as an error', async () => {
    scripts.set('drop', () => ({ fault: 'drop', text: 'Half an answer and then nothing.', after: 2 }));
    const r = await answer(reasoner, 'drop');
    assert.equal(r.error?.kind, 'error');
    assert.equal(r.text, 'Half an ');
  });

  it('bounds the retry by the same first-token deadline', async () => {
    scripts.set('refuse then hang', inTurn({ fault: 'refuse', status: 503 }, { fault: 'hang' }));
    const budget = 1500;
    const own = new OpenAICompatibleReasoner({ baseURL: llm.url, model: 'm', firstTokenTimeoutMs: budget });
    const sent = llm.requests.length;
    const r = await answer(own, 'refuse then hang');
    assert.equal(r.error?.kind, 'timeout');
    assert.equal(llm.requests.length - sent, 2, 'the refusal was retried');
    assert.ok(r.ms < budget + SLACK_MS, `${Math.round(r.ms)} ms: the retry did not get a fresh timeout`);
  });

  it('answers normally after all that', async () => {
    const r = await answer(reasoner, 'where is the mug?');
    assert.equal(r.text, 'The mug is on the shelf.');
  });

  it('bounds the yes/no checks too', async () => {
    scripts.set('is this for you?', () => ({ fault: 'hang' }));
    const t0 = performance.now();
    await assert.rejects(quick.isInstruction('is this for you?', new AbortController().signal), { name: 'LanguageModelError', kind: 'timeout' });
    assert.ok(performance.now() - t0 < FIRST_TOKEN_MS + SLACK_MS);
  });

  it('a barge-in during a hang ends the request at once, as an abort, not a failure', async () => {
    scripts.set('hang for barge-in', () => ({ fault: 'hang' }));
    const before = await failures('timeout');
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 50);
    const t0 = performance.now();
    await assert.rejects(
      (async () => {
        for await (const _ of quick.respond(request('hang for barge-in'), abort.signal));
      })(),
      { name: 'AbortError' },
    );
    assert.ok(performance.now() - t0 < FIRST_TOKEN_MS, 'did not wait for the timeout');
    assert.equal(await failures('timeout'), before);
  });
});

it('a server that refuses connections is llm_refused, retried once within the deadline', async () => {
  // A port that was just free: nothing listens there.
  const probe = http.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const { port } = probe.address() as AddressInfo;
  await new Promise((r) => probe.close(r));
  const reasoner = new OpenAICompatibleReasoner({ baseURL: `http://127.0.0.1:${port}/v1`, model: 'm', firstTokenTimeoutMs: ROOMY_FIRST_TOKEN_MS });
  const before = await failures('refused');
  const r = await answer(reasoner, 'anyone there?');
  assert.equal(r.error?.kind, 'refused');
  assert.match(r.error!.message, /could not be reached/);
  assert.equal(await failures('refused'), before + 2);
  assert.ok(r.ms < ROOMY_FIRST_TOKEN_MS, `${Math.round(r.ms)} ms`);
});
