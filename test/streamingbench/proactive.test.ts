import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { TranscriptLog } from '../../memory/index.ts';
import { OptionScorer } from '../../server/eval/streamingbench/option-scorer.ts';
import { formatProactiveTable, meteredReasoner, parseProactiveModes, proactiveOut, summarizeProactive, watchCondition, type ReasonerCall } from '../../server/eval/streamingbench/proactive.ts';
import { proactivePrompt, proactiveQuery } from '../../server/eval/streamingbench/prompts.ts';
import { parseQuestionFile } from '../../server/eval/streamingbench/questions.ts';
import { ResultsFile } from '../../server/eval/streamingbench/results.ts';
import { DETAILS_KEY, MODEL_KEY } from '../../server/eval/streamingbench/scoring.ts';
import { parseCondition } from '../../server/reasoning/watch/watch-request.ts';

describe('StreamingBench proactive questions as watches', () => {
  it('the condition is the question with its ask stripped off, in either order', () => {
    const cases: [string, string][] = [
      ['When the screen shows the word "LOCKER", output "LOCKER 41".', 'the screen shows the word "LOCKER"'],
      ['When the scoreboard shows 3 points for USA, output "3".', 'the scoreboard shows 3 points for USA'],
      ['Notify me when the dog appears.', 'the dog appears'],
      ['Output "GOAL" when the ball enters the net.', 'the ball enters the net'],
      ['When the man in red appears, tell me what he is holding.', 'the man in red appears'],
      ['Please let me know as soon as the word EXIT is on the sign.', 'the word EXIT is on the sign'],
      ['If a cat appears, say "cat".', 'a cat appears'],
      ['When a person walks in, then output "hello".', 'a person walks in'],
      // A comma inside the condition is not the ask.
      ['As soon as the car, which is red, stops, output "stopped".', 'the car, which is red, stops'],
      ['The car stops. Output "stopped".', 'The car stops'],
    ];
    for (const [question, condition] of cases) assert.equal(watchCondition(question), condition, question);
  });

  it('conditions of text, objects and speech become rules the session checks without a language model', () => {
    const rule = (question: string) => parseCondition(watchCondition(question));
    assert.deepEqual(rule('When the screen shows the word "LOCKER", output "LOCKER 41".'), { kind: 'text', words: ['locker'] });
    assert.deepEqual(rule('Notify me when the dog appears.'), { kind: 'object_appears', label: 'dog' });
    assert.deepEqual(rule('When the speaker mentions milk, output "MILK".'), { kind: 'phrase', words: ['milk'] });
    assert.equal(rule('When the screen turns yellow, output "YELLOW".'), undefined, 'colours need a judge');
  });

  it('--proactive takes poll, watch or both; several modes write one results file each', () => {
    assert.deepEqual(parseProactiveModes('watch'), ['watch']);
    assert.deepEqual(parseProactiveModes('poll,watch'), ['poll', 'watch']);
    for (const bad of ['', 'ask', 'poll,poll', 'watch,']) assert.throws(() => parseProactiveModes(bad), /--proactive takes poll, watch or poll,watch/);
    assert.equal(proactiveOut('/r/p.json', 'watch', false), '/r/p.json');
    assert.equal(proactiveOut('/r/p.json', 'watch', true), '/r/p.watch.json');
    assert.equal(proactiveOut('/r/p', 'poll', true), '/r/p.poll');
  });

  it('counts every reasoner call and its time, and the reasoner keeps its own state', async () => {
    const seen: ReasonerCall[] = [];
    let ended = 0;
    const reasoner = meteredReasoner(new OptionScorer(), (call) => {
      seen.push(call);
      return () => ended++;
    });
    assert.equal(reasoner.name, 'option-scorer');
    assert.equal(reasoner.usesLanguageModel, false);
    assert.equal(reasoner.judgeWatch, undefined, 'no judge where the reasoner has none');
    const q = { question: 'When the screen shows "GATE", output "gate seen".', groundTruthOutput: 'gate seen' };
    let text = '';
    for await (const d of reasoner.respond({ question: proactivePrompt(q.question), conversation: [], transcript: new TranscriptLog(), nowMs: 0, evidence: [], images: [] }, new AbortController().signal)) if (d.type === 'text') text += d.text;
    assert.equal(text, 'gate seen');
    assert.deepEqual([seen, ended], [['respond'], 1]);
    await reasoner.close();
    assert.equal(proactiveQuery(q).endsWith('You can only answer yes or no.'), true);
  });

  it('sums score, cost and latency per mode from the answers and their details', () => {
    const file = parseQuestionFile([
      {
        video_path: 'v.mp4',
        questions: [
          { task_type: 'Proactive Output', question: 'When "A" shows, output "A".', time_stamp: '00:00:02', ground_truth_time_stamp: '00:00:08', ground_truth_output: 'A' },
          { task_type: 'Proactive Output', question: 'When "B" shows, output "B".', time_stamp: '00:00:02', ground_truth_time_stamp: '00:00:20', ground_truth_output: 'B' },
          { task_type: 'Proactive Output', question: 'When it turns blue, output "C".', time_stamp: '00:00:02', ground_truth_time_stamp: '00:00:10', ground_truth_output: 'C' },
        ],
      },
    ]);
    const [a, b, c] = file.questions;
    const turn = (role: 'user' | 'assistant', content: string, time: number) => ({ role, content, time, cost: 0.1 });
    a!.raw[MODEL_KEY] = { answered: 8, dialog_history: [turn('user', 'q', 2), turn('assistant', 'The screen now shows A.', 8), turn('user', 'q', 8), turn('assistant', 'A', 8)] };
    a!.raw[DETAILS_KEY] = { responses: 2, reasoner_calls: 1, reasoner_ms: 3, wall_ms: 400, latency_ms: 0, noticed_ms: 14_000, notice_lag_ms: 6000 };
    b!.raw[MODEL_KEY] = { answered: 23, dialog_history: [turn('user', 'q', 2), turn('user', 'q', 23), turn('assistant', 'B', 23)] };
    b!.raw[DETAILS_KEY] = { responses: 2, reasoner_calls: 1, reasoner_ms: 2, wall_ms: 300, latency_ms: 3000, noticed_ms: 23_000, notice_lag_ms: 0 };
    c!.raw[MODEL_KEY] = { answered: false, dialog_history: [turn('user', 'q', 2), turn('assistant', 'cannot watch for that', 2)] };
    c!.raw[DETAILS_KEY] = { responses: 0, reasoner_calls: 0, reasoner_ms: 0, wall_ms: 5, latency_ms: null, refused: 'cannot watch for that' };
    const s = summarizeProactive('watch', '/r/x.watch.json', file.questions, { media_s: 30, wall_s: 3 });
    assert.deepEqual([s.questions, s.answered, s.correct, s.time_correct, s.noticed_on_time, s.refused], [3, 2, 1, 1, 0, 1]);
    assert.equal(s.accuracy, 1 / 3);
    assert.deepEqual(s.cost, { responses: 4, reasoner_calls: 2, reasoner_ms: 5, wall_ms: 705, per_question: { responses: 1.3, reasoner_calls: 0.7, wall_ms: 235 } });
    assert.deepEqual(s.latency_ms, { p50: 0, min: 0, max: 3000 });
    assert.deepEqual(s.notice_lag_ms, { p50: 0, max: 6000 });
    const table = formatProactiveTable([{ ...s, mode: 'poll', refused: 0, notice_lag_ms: null }, s]);
    assert.match(table, /^proactive\s+n\s+correct\s+acc %\s+±2 s\s+known ±2 s\s+responses\s+reasoner\s+wall s\s+latency p50 \(min…max\) s\s+noticed after s$/m);
    assert.match(table, /^watch\s+3\s+1\s+33\.33\s+1\s+0\s+4\s+2\s+0\.7\s+\+0\.0 \(\+0\.0…\+3\.0\)\s+\+0\.0…\+6\.0$/m);
    assert.match(table, /^poll .*\s–$/m);
    assert.match(table, /watch: 1 condition no rule reads/);
  });

  it('a results file of one way of answering is not resumed by the other; earlier stream answers were polled', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'omnilive-sb-proactive-'));
    try {
      const data = () => [{ video_path: 'v.mp4', questions: [{ task_type: 'Proactive Output', question: 'When "A" shows, output "A".', time_stamp: '00:00:02', ground_truth_time_stamp: '00:00:08', ground_truth_output: 'A' }] }];
      const out = path.join(dir, 'p.json');
      const run = { mode: 'stream' as const, context: null, frames: null, reasoner: 'option-scorer' };
      const first = parseQuestionFile(data());
      const results = ResultsFile.open(out, first, { ...run, proactive: 'poll' });
      results.record(first.questions[0]!, { answered: 8, dialog_history: [{ role: 'assistant', content: 'A', time: 8, cost: 0 }] }, {});
      results.flush();
      assert.throws(() => ResultsFile.open(out, parseQuestionFile(data()), { ...run, proactive: 'watch' }), /made with proactive "poll", this run uses "watch"/);
      const again = parseQuestionFile(data());
      ResultsFile.open(out, again, { ...run, proactive: 'poll' });
      assert.ok(again.questions[0]!.raw[MODEL_KEY], 'taken over');
      // A file from before watches: its stream answers were polled.
      const old = JSON.parse(fs.readFileSync(out, 'utf8'));
      delete old[0].questions[0][DETAILS_KEY].proactive;
      fs.writeFileSync(out, JSON.stringify(old));
      assert.throws(() => ResultsFile.open(out, parseQuestionFile(data()), { ...run, proactive: 'watch' }), /made with proactive "poll"/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
