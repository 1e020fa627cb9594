import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { generateMiniSuite, type MiniSuite } from '../../benchmarks/streamingbench/mini-suite.ts';
import { multipleChoicePrompt } from '../../server/eval/streamingbench/prompts.ts';
import { runStreamingBench, type StreamingBenchReport } from '../../server/eval/streamingbench/run.ts';
import { DETAILS_KEY, MODEL_KEY, type ProactiveResponse } from '../../server/eval/streamingbench/scoring.ts';
import { loadConfig } from '../../server/config.ts';
import { FFMPEG_PATH } from '../../server/ingest/decode.ts';
import { createEngines } from '../../server/engines.ts';
import { OpenAICompatibleReasoner } from '../../server/reasoning/index.ts';
import { startFakeLlm, type FakeLlm } from '../helpers/fake-llm.ts';

const run = promisify(execFile);
/** Questions in the mini-suite's questions_real.json (signs, shapes and colours videos), and its counting ones. */
const REAL = 9;
const COUNTING = 3;
const CLI = path.resolve(import.meta.dirname, '../../server/bin/omnilive.mjs');

type Question = Record<string, any>;

/** Every question object of a results file, SQA groups flattened. */
function questionsOf(file: string): Question[] {
  const data = JSON.parse(fs.readFileSync(file, 'utf8')) as any[];
  return data.flatMap((e) => (Array.isArray(e) ? e : [e])).flatMap((e) => e.questions);
}

/** What the official count.py makes of a results file: first character against the answer. */
function recount(questions: Question[]): { total: number; correct: number } {
  const answered = questions.filter((q) => typeof q[MODEL_KEY] === 'string' && q[MODEL_KEY].length > 0);
  return { total: answered.length, correct: answered.filter((q) => q[MODEL_KEY][0] === q.answer).length };
}

describe('omnilive eval streamingbench on the generated mini-suite', () => {
  let suite: MiniSuite;
  let work: string;
  let engines: Awaited<ReturnType<typeof createEngines>>;
  let llm: FakeLlm;

  async function cli(...args: string[]): Promise<{ report: StreamingBenchReport; table: string; stderr: string }> {
    const { stdout, stderr } = await run(process.execPath, [CLI, 'eval', 'streamingbench', '--videos', suite.dir, '--data', path.join(work, 'data'), ...args], { maxBuffer: 64 * 1024 * 1024, timeout: 120_000 });
    const at = stdout.indexOf('\nStreamingBench ');
    return { report: JSON.parse(stdout.slice(0, at)), table: stdout.slice(at + 1), stderr };
  }

  before(async () => {
    // Generated once for this run (about a second), removed with the rest of the work dir.
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'omnilive-sb-e2e-'));
    suite = await generateMiniSuite(path.join(work, 'mini-suite'));
    engines = await createEngines(loadConfig({ dataDir: path.join(work, 'data'), 'memory.uri': path.join(work, 'memory'), 'vision.facts': 'ocr', 'vision.modelsDir': path.join(work, 'no-models') }, {}));
    llm = await startFakeLlm(() => 'B. That one.', 0);
  });
  after(async () => {
    await engines?.close();
    await llm?.close();
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('stream mode (CLI): every question answered through the session; the report names the engines; accuracy is count.py\'s', async () => {
    const out = path.join(work, 'real-stream.json');
    const { report, table } = await cli('--questions', suite.files.real, '--mode', 'stream', '--out', out);
    assert.equal(report.mode, 'stream');
    assert.equal(report.kind, 'standard');
    assert.deepEqual(report.questions, { selected: REAL, answered_now: REAL, taken_over: 0, failed: 0 });
    assert.deepEqual(report.reasoner.name, 'option-scorer');
    assert.equal(report.reasoner.language_model, false);
    for (const role of ['vad', 'asr', 'scene', 'ocr', 'objects', 'memory']) assert.ok(report.engines[role], `engine ${role} named: ${JSON.stringify(report.engines)}`);
    assert.ok(report.throughput.media_s >= 60 && report.throughput.x_real_time! > 0, JSON.stringify(report.throughput));
    const questions = questionsOf(out);
    assert.equal(questions.length, REAL);
    for (const q of questions) {
      assert.match(q[MODEL_KEY], /^[A-D]\. /, 'a letter first, as the official scorer reads it');
      assert.equal(q[DETAILS_KEY].mode, 'stream');
      assert.equal(q[DETAILS_KEY].asked, 'typed');
      assert.equal(q[DETAILS_KEY].asked_at_video_ms, Number(q.time_stamp.slice(-2)) * 1000, 'asked at its time');
    }
    const { total, correct } = recount(questions);
    assert.deepEqual([report.scores.overall.total, report.scores.overall.correct], [total, correct]);
    assert.equal(report.scores.overall.accuracy, correct / total);
    const counting = questions.filter((q) => q.task_type === 'Counting');
    const ct = report.scores.tasks.find((t) => t.abbreviation === 'CT')!;
    assert.deepEqual([ct.total, ct.correct], [COUNTING, counting.filter((q) => q[MODEL_KEY][0] === q.answer).length]);
    for (const abbreviation of ['TR', 'ATP', 'CS', 'EU', 'CT', 'SU']) assert.match(table, new RegExp(`\\n  ${abbreviation} `));
    assert.match(table, new RegExp(`Overall \\(per question\\)\\s+${REAL}\\s+\\d+`));
    assert.match(table, /reasoner: option-scorer \(NO language model\)/);
    assert.match(table, /× real time/);
  });

  it('resumes: a second run with the same --out asks only the unanswered questions and keeps the earlier answers', async () => {
    const out = path.join(work, 'resume.json');
    const first = await cli('--questions', suite.files.real, '--out', out, '--limit', '3');
    assert.deepEqual(first.report.questions, { selected: 3, answered_now: 3, taken_over: 0, failed: 0 });
    const before = questionsOf(out).map((q) => q[MODEL_KEY] ?? null);
    assert.deepEqual(before.map((r) => r !== null), [...Array(REAL).keys()].map((i) => i < 3));
    const second = await cli('--questions', suite.files.real, '--out', out);
    assert.deepEqual(second.report.questions, { selected: REAL, answered_now: REAL - 3, taken_over: 3, failed: 0 });
    const afterRun = questionsOf(out);
    assert.deepEqual(afterRun.slice(0, 3).map((q) => q[MODEL_KEY]), before.slice(0, 3));
    assert.ok(afterRun.every((q) => typeof q[MODEL_KEY] === 'string' && q[MODEL_KEY].length > 0));
    assert.equal(second.report.scores.overall.total, REAL);
    // Answers made another way are not mixed in.
    await assert.rejects(cli('--questions', suite.files.real, '--out', out, '--mode', 'prefix'), (e: Error & { stderr: string; code: number }) => {
      assert.match(e.stderr, /holds answers made with mode "stream", this run uses "prefix"/);
      return e.code === 2;
    });
  });

  it('prefix mode (CLI): the frames of [t − C, t) for each question; on-screen text is read better than chance', async () => {
    const out = path.join(work, 'real-prefix.json');
    const { report, table } = await cli('--questions', suite.files.real, '--mode', 'prefix', '--context', '20', '--frame-facts', 'ocr', '--out', out);
    assert.deepEqual([report.mode, report.context_s, report.max_frames], ['prefix', 20, 64]);
    assert.equal(report.questions.answered_now, REAL);
    assert.equal(report.engines.ocr, 'pp-ocrv4');
    assert.equal(report.engines.objects, null);
    assert.match(table, /mode prefix \(20 s before each question, at most 64 frames\)/);
    const questions = questionsOf(out);
    for (const q of questions) {
      const t = Number(q.time_stamp.slice(-2));
      assert.deepEqual([q[DETAILS_KEY].first_frame_s, q[DETAILS_KEY].last_frame_s, q[DETAILS_KEY].frames], [Math.max(0, t - 20), t - 1, Math.min(t, 20)], q.question);
    }
    assert.deepEqual([report.scores.overall.total, report.scores.overall.correct], Object.values(recount(questions)));
    // The sign on screen is read by OCR and the latest one is "now": principled, not tuned.
    const onScreen = Object.entries(suite.skills['questions_real.json']!).filter(([, skill]) => skill === 'on-screen text');
    const right = onScreen.filter(([key]) => {
      const [entry, question] = key.split('/').map(Number);
      const q = (JSON.parse(fs.readFileSync(out, 'utf8')) as any[])[entry!].questions[question!];
      return q[MODEL_KEY][0] === q.answer;
    });
    assert.ok(onScreen.length > 0 && right.length / onScreen.length > 0.25, `on-screen text: ${right.length} of ${onScreen.length}`);
  });

  it('stream mode (module): SQA keeps one session, proactive polls once a second, spoken questions go through VAD and ASR', async () => {
    const common = { videosDir: suite.dir, mode: 'stream' as const, context: 60, maxFrames: 64, concurrency: 1, engines, config: loadConfig({ dataDir: path.join(work, 'data') }, {}) };
    const sqa = await runStreamingBench({ ...common, questionsFile: suite.files.sqa, out: path.join(work, 'sqa.json') });
    assert.equal(sqa.kind, 'sqa');
    assert.equal(sqa.scores.overall.total, 2);
    const sqaQuestions = questionsOf(path.join(work, 'sqa.json'));
    assert.ok(sqaQuestions[1][DETAILS_KEY].media_ms > sqaQuestions[0][DETAILS_KEY].media_ms, 'the second question is asked later in the same stream');

    // The official loop, on the sign question (the first of the file).
    const proactive = await runStreamingBench({ ...common, questionsFile: suite.files.proactive, proactive: ['poll'], limit: 1, out: path.join(work, 'proactive.json') });
    const [pq] = questionsOf(path.join(work, 'proactive.json'));
    const response = pq![MODEL_KEY] as ProactiveResponse;
    const polls = response.dialog_history.filter((d) => d.role === 'user' && /Is it the right time/.test(d.content)).map((d) => d.time);
    assert.equal(polls[0], 27, 'first poll at t + 1');
    polls.forEach((t, i) => assert.equal(t, 27 + i, 'then once a second'));
    assert.ok(polls.at(-1)! <= 32 + 4, 'never past the ground truth + 4 s');
    if (response.answered === false) assert.equal(polls.at(-1), 36);
    else assert.equal(response.dialog_history.at(-1)!.content, 'LOCKER 41');
    assert.equal(proactive.scores.tasks[0]!.abbreviation, 'PO');
    assert.equal(proactive.scores.overall.total, 1);
    assert.equal(pq![DETAILS_KEY].proactive, 'poll');
    assert.equal(pq![DETAILS_KEY].responses, response.dialog_history.length / 2, 'one session response per poll and answer');

    const spoken = await runStreamingBench({ ...common, questionsFile: suite.files.real_stream, out: path.join(work, 'spoken.json') });
    assert.equal(spoken.questions.answered_now, 2);
    for (const q of questionsOf(path.join(work, 'spoken.json'))) {
      assert.equal(q[DETAILS_KEY].asked, 'spoken');
      assert.match(q[DETAILS_KEY].transcript, /\b(what|which|text|screen|sign|displayed|first)\b/, 'ASR heard the question');
      assert.match(q[MODEL_KEY], /^[A-D]\. /);
      // The question's audio took media time; the video waited for it.
      assert.ok(q[DETAILS_KEY].media_ms > q[DETAILS_KEY].asked_at_video_ms);
    }
  });

  it('stream mode: a proactive question becomes a watch that fires when the text appears, not before; polling still answers it, at more cost', async () => {
    // 0–4 s a navy screen reading ROOM 204, then a white one reading GATE B7 to 7 s (short: the suite's time is tight).
    const videosDir = path.join(work, 'watch');
    fs.mkdirSync(path.join(videosDir, 'videos'), { recursive: true });
    const font = fs.existsSync('/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf') ? 'fontfile=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf:' : '';
    const sign = (text: string, colour: string) => `drawtext=${font}text='${text}':fontsize=64:fontcolor=${colour}:x=(w-tw)/2:y=(h-th)/2`;
    const r = spawnSync(FFMPEG_PATH, [
      '-loglevel', 'error', '-y',
      '-f', 'lavfi', '-t', '4', '-i', 'color=c=navy:s=640x360:r=5',
      '-f', 'lavfi', '-t', '3', '-i', 'color=c=white:s=640x360:r=5',
      '-filter_complex', `[0:v]${sign('ROOM 204', 'white')}[a];[1:v]${sign('GATE B7', 'black')}[b];[a][b]concat=n=2:v=1:a=0,format=yuv420p[v]`,
      '-map', '[v]', '-c:v', 'libx264', '-preset', 'ultrafast', path.join(videosDir, 'videos', 'gate.mp4'),
    ]);
    assert.equal(r.status, 0, r.stderr?.toString());
    const questionsFile = path.join(work, 'watch.json');
    fs.writeFileSync(questionsFile, JSON.stringify([{ video_path: './videos/gate.mp4', questions: [{ task_type: 'Proactive Output', question: 'When the screen shows the word "GATE", output "GATE B7".', time_stamp: '00:00:01', ground_truth_time_stamp: '00:00:04', ground_truth_output: 'GATE B7' }] }]));
    const out = path.join(work, 'watch-out.json');
    const report = await runStreamingBench({ questionsFile, videosDir, mode: 'stream', proactive: ['poll', 'watch'], context: 60, maxFrames: 64, concurrency: 1, out, engines, config: loadConfig({ dataDir: path.join(work, 'data') }, {}) });
    const [poll, watch] = report.proactive!;
    assert.deepEqual([poll!.mode, watch!.mode], ['poll', 'watch']);
    assert.equal(report.out, path.join(work, 'watch-out.poll.json'), 'the first mode is the report\'s');

    const [wq] = questionsOf(path.join(work, 'watch-out.watch.json'));
    const answer = wq![MODEL_KEY] as ProactiveResponse;
    const details = wq![DETAILS_KEY];
    assert.deepEqual([details.proactive, details.condition, details.rule], ['watch', 'the screen shows the word "GATE"', 'text']);
    assert.ok(details.fired_media_ms >= 4000 && details.fired_media_ms <= 6000, `fired at ${details.fired_media_ms} ms: when GATE B7 appeared (4 s), not before`);
    assert.equal(answer.answered, details.fired_media_ms / 1000);
    assert.match(details.evidence, /GATE B7/);
    assert.match(answer.dialog_history.at(-3)!.content, /GATE B7/, "the session's own announcement");
    assert.equal(answer.dialog_history.at(-1)!.content, 'GATE B7');
    assert.ok(details.noticed_ms >= details.fired_media_ms, 'known once its clip closed');
    assert.deepEqual([watch!.correct, watch!.time_correct, watch!.cost.responses, watch!.cost.reasoner_calls], [1, 1, 2, 1], 'no polls: the announcement and one answer');

    const [pq] = questionsOf(path.join(work, 'watch-out.poll.json'));
    const polled = pq![MODEL_KEY] as ProactiveResponse;
    assert.ok(polled.answered !== false && polled.answered >= 4 && polled.answered <= 6, `polled yes at ${polled.answered} s`);
    assert.equal(poll!.correct, 1);
    assert.ok(poll!.cost.reasoner_calls > watch!.cost.reasoner_calls && poll!.cost.responses === poll!.cost.reasoner_calls, JSON.stringify(poll!.cost));
    assert.deepEqual(report.scores.overall, { total: 1, correct: 1, accuracy: 1 });
  });

  it('stream mode: a video without an audio track plays on its frames, each question at its time', async () => {
    // The signs video with its (silent) audio track dropped, as screen recordings and many benchmark clips come.
    const real = JSON.parse(fs.readFileSync(suite.files.real, 'utf8'));
    const signs = real[0];
    const videosDir = path.join(work, 'video-only');
    fs.mkdirSync(path.join(videosDir, path.dirname(signs.video_path)), { recursive: true });
    const r = spawnSync(FFMPEG_PATH, ['-loglevel', 'error', '-y', '-i', path.join(suite.dir, signs.video_path), '-an', '-c:v', 'copy', path.join(videosDir, signs.video_path)]);
    assert.equal(r.status, 0, r.stderr?.toString());
    // What is on screen at 20 s, and which sign came first (asked at 36 s).
    const questionsFile = path.join(work, 'video-only.json');
    fs.writeFileSync(questionsFile, JSON.stringify([{ ...signs, questions: [signs.questions[0], signs.questions[3]] }]));
    const out = path.join(work, 'video-only-out.json');
    const report = await runStreamingBench({ questionsFile, videosDir, mode: 'stream', context: 60, maxFrames: 64, concurrency: 1, out, engines, config: loadConfig({ dataDir: path.join(work, 'data') }, {}) });
    assert.deepEqual(report.questions, { selected: 2, answered_now: 2, taken_over: 0, failed: 0 }, JSON.stringify(report.failures));
    for (const q of questionsOf(out)) {
      assert.equal(q[DETAILS_KEY].asked_at_video_ms, Number(q.time_stamp.slice(-2)) * 1000, 'asked at its time');
      assert.equal(q[DETAILS_KEY].media_ms, q[DETAILS_KEY].asked_at_video_ms, 'the session clock ran with the video');
      assert.equal(q[MODEL_KEY][0], q.answer, `${q.question} ${q[MODEL_KEY]}: the signs were read from the frames`);
    }
  });

  it('any reasoner: an OpenAI-compatible model gets the official prompt with the frames (prefix) or through the session (stream)', async () => {
    const config = loadConfig({ dataDir: path.join(work, 'data'), 'llm.url': llm.url, 'llm.model': 'fake-vlm' }, {});
    llm.requests.length = 0;
    const prefix = await runStreamingBench({ questionsFile: suite.files.real, videosDir: suite.dir, mode: 'prefix', context: 60, maxFrames: 16, concurrency: 2, out: path.join(work, 'llm-prefix.json'), config });
    assert.deepEqual(prefix.reasoner, { name: 'openai-compatible:fake-vlm', language_model: true, method: prefix.reasoner.method });
    assert.equal(llm.requests.length, REAL);
    const questions = questionsOf(path.join(work, 'llm-prefix.json'));
    for (const q of questions) {
      const request = llm.requests.find((r) => JSON.stringify(r).includes(q.question))! as any;
      const content = request.messages[0].content as any[];
      assert.equal(request.messages.length, 1);
      assert.equal(content.filter((c) => c.type === 'image_url').length, Math.min(Number(q.time_stamp.slice(-2)), 16), 'frames first, at most the budget');
      assert.match(content[0].image_url.url, /^data:image\/jpeg;base64,/);
      assert.equal(content.at(-1).text, multipleChoicePrompt({ question: q.question, options: q.options }));
      assert.equal(q[MODEL_KEY], 'B. That one.');
    }
    const bs = questions.filter((q) => q.answer === 'B').length;
    assert.deepEqual([prefix.scores.overall.total, prefix.scores.overall.correct], [REAL, bs]);

    llm.requests.length = 0;
    const reasoner = new OpenAICompatibleReasoner({ baseURL: llm.url, model: 'fake-vlm' });
    const stream = await runStreamingBench({ questionsFile: suite.files.omni, videosDir: suite.dir, mode: 'stream', context: 60, maxFrames: 64, concurrency: 1, out: path.join(work, 'llm-stream.json'), config, engines: { ...engines, reasoner } });
    assert.equal(stream.reasoner.name, 'openai-compatible:fake-vlm');
    assert.equal(stream.engines.asr, engines.asr.name);
    assert.equal(llm.requests.length, 2);
    for (const request of llm.requests as any[]) {
      const last = request.messages.at(-1);
      const text = typeof last.content === 'string' ? last.content : last.content[0].text;
      assert.match(text, /The best option is:/);
      assert.match(request.messages[0].content, /Memory of this session/, 'with what the session remembers');
    }
    assert.deepEqual(questionsOf(path.join(work, 'llm-stream.json')).map((q) => q[MODEL_KEY]), ['B. That one.', 'B. That one.']);
  });

  it('fails before any work: a malformed entry names its index and field; missing videos are listed', async () => {
    const bad = path.join(work, 'bad.json');
    const data = JSON.parse(fs.readFileSync(suite.files.real, 'utf8'));
    delete data[1].questions[2].time_stamp;
    fs.writeFileSync(bad, JSON.stringify(data));
    await assert.rejects(cli('--questions', bad, '--out', path.join(work, 'bad-out.json')), (e: Error & { stderr: string; code: number }) => {
      assert.match(e.stderr, /bad\.json: entry 1, question 2: field "time_stamp" must be a non-empty string, got nothing/);
      return e.code === 2;
    });
    const missing = path.join(work, 'missing.json');
    data[1].questions[2].time_stamp = '00:00:10';
    data[0].video_path = './videos/sample_404_real.mp4';
    fs.writeFileSync(missing, JSON.stringify(data));
    const started = performance.now();
    await assert.rejects(cli('--questions', missing, '--out', path.join(work, 'missing-out.json')), (e: Error & { stderr: string; code: number }) => {
      assert.match(e.stderr, /1 media file not found under --videos .*\n\s+video '\.\/videos\/sample_404_real\.mp4' \(entry 0, question 0\)/);
      return e.code === 2;
    });
    assert.ok(!fs.existsSync(path.join(work, 'missing-out.json')), 'nothing was written');
    assert.ok(performance.now() - started < 15_000);
  });
});
