import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { opsMetrics } from '../../server/ops/metrics.ts';
import { inTurn, type FakeReply } from '../helpers/fake-llm.ts';
import { withScriptedModel } from '../helpers/server.ts';
import { RawClient } from '../helpers/ws-client.ts';

const FIRST_TOKEN_MS = 1000;
const IDLE_MS = 500;
/** Room for a loaded machine beyond the timeouts. */
const SLACK_MS = 3000;

async function failures(kind: string): Promise<number> {
  return (await opsMetrics.llmFailures.get()).values.find((v) => v.labels.kind === kind)?.value ?? 0;
}

describe('a language model that refuses, hangs or stalls: the person hears why, and the next question is answered', () => {
  const scripts = new Map<string, () => FakeReply>();
  const ctx = withScriptedModel((q) => scripts.get(q)?.() ?? `You asked: ${q}`, { 'llm.firstTokenTimeoutMs': String(FIRST_TOKEN_MS), 'llm.idleTimeoutMs': String(IDLE_MS) }, 5);

  /** Types a question and waits for its response.done; returns it, the events of that response, and the wait for its first words. */
  async function ask(client: RawClient, text: string, modalities: ('text' | 'audio')[]) {
    const known = new Set(client.log.of('response.done').map((e) => e.response.id));
    const t0 = performance.now();
    client.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text }] } });
    client.send({ type: 'response.create', response: { output_modalities: modalities } });
    const done = await client.log.waitFor('response.done', (e) => !known.has(e.response.id), 30_000);
    const id = done.response.id as string;
    const events = client.log.events.filter((e) => e.response_id === id || e.response?.id === id);
    // How long the person waited for the first words (a spoken answer then takes as long as it speaks).
    const firstWords = events.find((e) => e.type === 'response.output_text.delta');
    return { done, ms: (firstWords?.at ?? Infinity) - t0, events };
  }

  it('each failure ends within its bound with an apology as the answer, an error the client can act on, and a count', async () => {
    const client = new RawClient(ctx.server);
    await client.opened;
    try {
      // Hangs before any header. (That the apology is spoken too is response.test.ts's: here
      // speech would only add its real-time length.)
      scripts.set('hang please', () => ({ fault: 'hang' }));
      let before = await failures('timeout');
      const hang = await ask(client, 'hang please', ['text']);
      assert.equal(hang.done.response.status, 'failed');
      assert.equal(hang.done.response.status_details.error.code, 'llm_timeout');
      assert.ok(hang.ms >= FIRST_TOKEN_MS - 50 && hang.ms < FIRST_TOKEN_MS + SLACK_MS, `${Math.round(hang.ms)} ms`);
      assert.equal(hang.events.find((e) => e.type === 'response.output_text.done')?.text, 'Sorry, the language model did not answer in time.');
      assert.equal(hang.done.response.output[0].status, 'incomplete');
      const error = client.log.of('error').find((e) => e.error.code === 'llm_timeout');
      assert.equal(error?.error.type, 'server_error');
      assert.equal(await failures('timeout'), before + 1);

      // Refuses every time: asked once more, then the apology.
      scripts.set('refuse please', () => ({ fault: 'refuse', status: 503 }));
      before = await failures('refused');
      const refused = await ask(client, 'refuse please', ['text']);
      assert.equal(refused.done.response.status_details.error.code, 'llm_refused');
      assert.equal(refused.events.find((e) => e.type === 'response.output_text.done')?.text, 'Sorry, the language model is not available right now.');
      assert.equal(await failures('refused'), before + 2, 'the request and its retry');

      // A refusal, then an answer: the retry answers and nobody hears of the refusal.
      scripts.set('refuse once please', inTurn({ fault: 'refuse', status: 500 }, 'Answered on the second try.'));
      const retried = await ask(client, 'refuse once please', ['text']);
      assert.equal(retried.done.response.status, 'completed');
      assert.equal(retried.events.find((e) => e.type === 'response.output_text.done')?.text, 'Answered on the second try.');

      // Stalls after three words: what came stays, the apology follows, no retry.
      scripts.set('stall please', () => ({ fault: 'stall', text: 'The red mug is on the shelf.', after: 3 }));
      before = await failures('stalled');
      const stalled = await ask(client, 'stall please', ['text']);
      assert.equal(stalled.done.response.status_details.error.code, 'llm_stalled');
      assert.equal(stalled.events.find((e) => e.type === 'response.output_text.done')?.text, 'The red mug ... Sorry, the language model stopped answering.');
      assert.ok(stalled.ms < IDLE_MS + SLACK_MS, `${Math.round(stalled.ms)} ms`);
      assert.equal(await failures('stalled'), before + 1);

      // And the next question is answered as usual.
      const next = await ask(client, 'where is the mug?', ['text']);
      assert.equal(next.done.response.status, 'completed');
      assert.equal(next.events.find((e) => e.type === 'response.output_text.done')?.text, 'You asked: where is the mug?');
    } finally {
      client.close();
    }
  });
});
