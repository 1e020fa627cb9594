import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { QuestionFileError, loadQuestionFile, parseQuestionFile, parseTimeStamp, resolveAllMedia } from '../../server/eval/streamingbench/questions.ts';

// Entries shaped exactly like the official files (values shortened).
const real = () => [
  {
    time: '[0:00:00 - 0:00:10]',
    questions: [
      {
        task_type: 'Clips Summarize',
        question: 'Which of the following options best summarizes the actions of the individual taken just now?',
        time_stamp: '00:00:31',
        answer: 'C',
        options: ['A. Organized trays.', 'B. Chopped vegetables.', 'C. Replenished bread.', 'D. Checked inventory.'],
        required_ability: 'episodic memory',
        cause: 'the shelf was empty',
        effect: 'the shelf is full',
      },
    ],
    video_categories: 'preparation_of_meals',
    video_path: './videos/sample_348_real.mp4',
    captions: [],
  },
];

const sqa = () => [
  [
    { time: '[0:01:00 - 0:02:00]', questions: [{ task_type: 'Sequential Question Answering', question: 'Who is preparing to serve the ball now?', time_stamp: '00:00:36', answer: 'A', options: ['Wang chuqin.', 'Fan Z.D.', 'Xu xin.', 'Ma Lin.'], required_ability: 'episodic memory' }], video_categories: 'table_tennis', video_path: './videos/sample_17_sqa.mp4' },
    { time: '[0:02:00 - 0:03:00]', questions: [{ task_type: 'Sequential Question Answering', question: 'How much game score has the person mentioned in the last question scored now?', time_stamp: '00:03:02', answer: 'C', options: ['2.', '6.', '7.', '4.'], required_ability: 'episodic memory' }], video_categories: 'table_tennis', video_path: './videos/sample_17_sqa.mp4' },
  ],
];

const proactive = () => [
  {
    time: '[0:00:00 - 0:00:30]',
    questions: [{ task_type: 'Proactive Output', question: 'When the scoreboard shows 3 points for USA, output "3".', time_stamp: '00:00:20', ground_truth_time_stamp: '00:00:29', ground_truth_output: '3', required_ability: 'working memory' }],
    video_categories: 'basketball',
    video_path: './videos/sample_17_proactive.mp4',
  },
];

const stream = () => [
  {
    questions: [
      { task_type: 'Object Recognition', question: "What can be seen in the cockpit's center screen right now?", time_stamp: '00:00:06', answer: 'B', options: ['A. A compass.', 'B. A map.', 'C. An altitude meter.', 'D. A weather radar.'], required_ability: 'working memory', audio_path: './audio/real/sample_416_00_00_06.wav', time: '[0:00:00 - 0:00:20]' },
      { task_type: 'Attribute Recognition', question: "What colors are the pilot's handheld controls right now?", time_stamp: '0:02:37', answer: 'A', options: ['A. Black.', 'B. Red and green.', 'C. Yellow and blue.', 'D. Black and orange.'], audio_path: './audio/real/sample_416_00_02_37.wav', time: '[0:02:23 - 0:02:43]' },
    ],
    video_path: './videos/sample_416_real.mp4',
  },
];

/** The QuestionFileError message thrown for `data`. */
function errorOf(data: unknown): string {
  try {
    parseQuestionFile(data, 'questions_x.json');
  } catch (error) {
    assert.ok(error instanceof QuestionFileError, String(error));
    return (error as Error).message;
  }
  assert.fail('expected a QuestionFileError');
}

describe('StreamingBench question files', () => {
  const dirs: string[] = [];
  after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  it('reads a real/omni file with every field of the official schema', () => {
    const file = parseQuestionFile(real(), 'questions_real.json');
    assert.equal(file.kind, 'standard');
    const [q] = file.questions;
    assert.equal(file.questions.length, 1);
    assert.deepEqual(
      { key: q!.key, entry: q!.entryIndex, question: q!.questionIndex, video: q!.videoPath, task: q!.taskType, ts: q!.timeStamp, t: q!.timeS, answer: q!.answer, ability: q!.requiredAbility, categories: q!.videoCategories, time: q!.time, cause: q!.cause, effect: q!.effect },
      { key: '0/0', entry: 0, question: 0, video: './videos/sample_348_real.mp4', task: 'Clips Summarize', ts: '00:00:31', t: 31, answer: 'C', ability: 'episodic memory', categories: 'preparation_of_meals', time: '[0:00:00 - 0:00:10]', cause: 'the shelf was empty', effect: 'the shelf is full' },
    );
    assert.equal(q!.options!.length, 4);
    // Results are written into the very objects of the parsed file.
    assert.equal(q!.raw, (file.data[0] as any).questions[0]);
  });

  it('reads SQA files as groups per video, proactive files, and *_stream files with audio_path', () => {
    const s = parseQuestionFile(sqa(), 'questions_sqa.json');
    assert.equal(s.kind, 'sqa');
    assert.deepEqual(s.questions.map((q) => [q.key, q.entryIndex, q.subIndex, q.timeS]), [['0.0/0', 0, 0, 36], ['0.1/0', 0, 1, 182]]);
    const p = parseQuestionFile(proactive(), 'questions_proactive.json');
    assert.equal(p.kind, 'proactive');
    assert.deepEqual([p.questions[0]!.groundTruthTimeS, p.questions[0]!.groundTruthOutput, p.questions[0]!.options], [29, '3', undefined]);
    const st = parseQuestionFile(stream(), 'questions_real_stream.json');
    assert.equal(st.kind, 'standard');
    assert.deepEqual(st.questions.map((q) => [q.audioPath, q.time, q.timeS, q.requiredAbility]), [
      ['./audio/real/sample_416_00_00_06.wav', '[0:00:00 - 0:00:20]', 6, 'working memory'],
      ['./audio/real/sample_416_00_02_37.wav', '[0:02:23 - 0:02:43]', 157, undefined],
    ]);
  });

  it('parses time stamps the way the official scripts do, odd ones included', () => {
    assert.equal(parseTimeStamp('00:03:10'), 190);
    assert.equal(parseTimeStamp('0:07:40'), 460);
    assert.equal(parseTimeStamp('00:24'), 24);
    assert.equal(parseTimeStamp('00:00:8'), 8);
    assert.equal(parseTimeStamp('00:12450'), 12450); // in questions_real.json: Σ part × 60^i from the right
    assert.equal(parseTimeStamp('1:00:00'), 3600);
  });

  it('names the entry index and the field of every malformed entry', () => {
    const cases: [unknown, RegExp][] = [
      [{ not: 'a list' }, /top level must be a list/],
      [[], /no entries/],
      [[...real(), 'x'], /entry 1 must be an object/],
      [[{ ...real()[0], video_path: undefined }], /entry 0: field "video_path" must be a path to the video, got nothing/],
      [[real()[0], { ...real()[0], questions: [] }], /entry 1: field "questions" must be a non-empty list/],
      [[{ ...real()[0], video_categories: 3 }], /entry 0: field "video_categories" must be a string, got 3/],
    ];
    const q = (patch: Record<string, unknown>) => [real()[0], real()[0], { ...real()[0], questions: [real()[0]!.questions[0], { ...real()[0]!.questions[0], ...patch }] }];
    cases.push(
      [q({ time_stamp: '3 min' }), /entry 2, question 1: field "time_stamp" must be a time "HH:MM:SS", got "3 min"/],
      [q({ time_stamp: undefined }), /entry 2, question 1: field "time_stamp" must be a non-empty string, got nothing/],
      [q({ task_type: '' }), /entry 2, question 1: field "task_type" must be a non-empty string/],
      [q({ question: 42 }), /entry 2, question 1: field "question" must be a non-empty string, got 42/],
      [q({ options: ['A. x', 'B. y', 'C. z'] }), /entry 2, question 1: field "options" must be a list of at least 4 strings/],
      [q({ options: undefined }), /entry 2, question 1: field "options" .*ground_truth_time_stamp and ground_truth_output/],
      [q({ answer: 'E' }), /entry 2, question 1: field "answer" must be one option letter A–D, got "E"/],
      [q({ answer: 'a' }), /entry 2, question 1: field "answer" must be one option letter/],
      [q({ audio_path: '' }), /entry 2, question 1: field "audio_path" must be a path to the spoken question/],
      [q({ required_ability: ['x'] }), /entry 2, question 1: field "required_ability" must be a string, got a list/],
      [[{ ...real()[0], questions: [null] }], /entry 0, question 0 must be an object, got null/],
    );
    const p = proactive();
    p[0]!.questions[0]!.ground_truth_time_stamp = 'soon';
    cases.push([p, /entry 0, question 0: field "ground_truth_time_stamp" must be a time "HH:MM:SS", got "soon"/]);
    const p2 = proactive() as any[];
    delete p2[0].questions[0].ground_truth_output;
    cases.push([p2, /entry 0, question 0: field "ground_truth_output" must be a non-empty string, got nothing/]);
    cases.push([[...proactive(), ...real()], /entry 1, question 0: proactive files hold only proactive questions/]);
    cases.push([[...sqa(), real()[0]], /entry 1 must be a list of entries like entry 0/]);
    cases.push([[[sqa()[0]![0], { ...sqa()[0]![1], video_path: '' }]], /entry 0\[1\]: field "video_path"/]);
    for (const [data, expected] of cases) assert.match(errorOf(data), expected);
  });

  it('reports a file that is not JSON, naming it', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'omnilive-sbq-'));
    dirs.push(dir);
    const file = path.join(dir, 'questions_real.json');
    fs.writeFileSync(file, '[{"video_path": ');
    assert.throws(() => loadQuestionFile(file), (e: Error) => e instanceof QuestionFileError && /questions_real\.json is not JSON/.test(e.message));
    assert.throws(() => loadQuestionFile(path.join(dir, 'nope.json')), /cannot read the questions file/);
  });

  it('finds videos where the official preprocessing puts them, and lists every missing one before any work', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'omnilive-sbq-'));
    dirs.push(dir);
    fs.mkdirSync(path.join(dir, 'videos'));
    fs.writeFileSync(path.join(dir, 'videos', 'sample_416_real.mp4'), '');
    const absolute = path.join(dir, 'elsewhere.mp4');
    fs.writeFileSync(absolute, '');
    const data = stream();
    const file = parseQuestionFile([...data, { ...data[0], video_path: absolute }, { ...data[0], video_path: '/home/someone/StreamingBench/src/data/videos/sample_416_real.mp4' }]);
    // Audio is needed in stream mode only.
    const { videos } = resolveAllMedia(file.questions, dir, false);
    assert.equal(videos.get('./videos/sample_416_real.mp4'), path.join(dir, 'videos', 'sample_416_real.mp4'));
    assert.equal(videos.get(absolute), absolute);
    // An absolute path made on another machine is found by its last parts under --videos.
    assert.equal(videos.get('/home/someone/StreamingBench/src/data/videos/sample_416_real.mp4'), path.join(dir, 'videos', 'sample_416_real.mp4'));
    assert.throws(
      () => resolveAllMedia(file.questions, dir, true),
      (e: Error) => {
        assert.ok(e instanceof QuestionFileError);
        assert.match(e.message, /2 media files not found/);
        assert.match(e.message, /audio '\.\/audio\/real\/sample_416_00_00_06\.wav' \(entry 0, question 0\)/);
        assert.match(e.message, /audio '\.\/audio\/real\/sample_416_00_02_37\.wav' \(entry 0, question 1\); tried /);
        return true;
      },
    );
    const missing = parseQuestionFile([{ ...data[0], video_path: './videos/sample_9_real.mp4' }]);
    assert.throws(() => resolveAllMedia(missing.questions, dir, false), /1 media file not found under --videos .*\n  video '\.\/videos\/sample_9_real\.mp4' \(entry 0, question 0\); tried .*sample_9_real\.mp4/);
  });
});
