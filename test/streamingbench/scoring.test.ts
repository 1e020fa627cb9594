import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { multipleChoicePrompt, officialOptions, proactivePrompt, proactiveQuery, promptsFor } from '../../server/eval/streamingbench/prompts.ts';
import { parseQuestionFile } from '../../server/eval/streamingbench/questions.ts';
import { MODEL_KEY, formatScoreTable, hasResponse, isCorrectChoice, scoreQuestions } from '../../server/eval/streamingbench/scoring.ts';

const mc = (task: string, answer: string, response?: string) => ({
  task_type: task,
  question: `q ${task} ${answer} ${response}`,
  time_stamp: '00:00:10',
  answer,
  options: ['A. a', 'B. b', 'C. c', 'D. d'],
  ...(response === undefined ? {} : { [MODEL_KEY]: response }),
});

describe('StreamingBench scoring, as count.py', () => {
  it('reads the first character of the response, exactly', () => {
    assert.equal(isCorrectChoice('A', 'A'), true);
    assert.equal(isCorrectChoice('A.', 'A'), true);
    assert.equal(isCorrectChoice('A. The individual…', 'A'), true);
    assert.equal(isCorrectChoice('A, because', 'A'), true);
    assert.equal(isCorrectChoice(' A', 'A'), false); // a leading space is the first character
    assert.equal(isCorrectChoice('a', 'A'), false); // case-sensitive
    assert.equal(isCorrectChoice('(A)', 'A'), false);
    assert.equal(isCorrectChoice('The answer is A', 'A'), false);
    assert.equal(isCorrectChoice('', 'A'), false);
  });

  it('accuracy per task and overall is correct / counted, a per-question average; empty responses are not counted', () => {
    const file = parseQuestionFile([
      { video_path: 'v1.mp4', questions: [mc('Object Recognition', 'A', 'A.'), mc('Object Recognition', 'B', ' B'), mc('Object Recognition', 'C', 'C')] },
      { video_path: 'v2.mp4', questions: [mc('Counting', 'D', 'D'), mc('Counting', 'A', 'b'), mc('Counting', 'B', ''), mc('Counting', 'C')] },
      { video_path: 'v3.mp4', questions: [mc('Emotion Recognition', 'A', 'A'), mc('Some New Task', 'A', 'B')] },
    ]);
    const s = scoreQuestions(file.questions, file.kind);
    const byTask = Object.fromEntries(s.tasks.map((t) => [t.abbreviation, [t.total, t.correct, t.accuracy]]));
    // OP: 'A.' right, ' B' wrong, 'C' right → 2/3. CT: 'D' right, 'b' wrong; '' and no response not counted → 1/2.
    assert.deepEqual(byTask, { OP: [3, 2, 2 / 3], CT: [2, 1, 0.5], ER: [1, 1, 1], 'Some New Task': [1, 0, 0] });
    assert.deepEqual(s.tasks.map((t) => t.abbreviation), ['OP', 'CT', 'ER', 'Some New Task'], 'the official task order, unknown tasks last');
    assert.deepEqual(s.groups.map((g) => [g.group, g.total, g.correct]), [['Real-Time Visual Understanding', 5, 3], ['Omni-Source Understanding', 1, 1], ['Other', 1, 0]]);
    // Per question (4 / 7), not the mean of the task accuracies.
    assert.deepEqual([s.overall.total, s.overall.correct, s.overall.accuracy], [7, 4, 4 / 7]);
    assert.equal(s.unanswered, 2);
    assert.equal(s.questions, 9);
    const table = formatScoreTable(s);
    assert.match(table, /OP   Object Recognition\s+3\s+2\s+66\.67/);
    assert.match(table, /CT   Counting\s+2\s+1\s+50\.00/);
    assert.match(table, /Overall \(per question\)\s+7\s+4\s+57\.14/);
    assert.match(table, /2 of 9 questions have no response/);
  });

  it('proactive: timing within ±2 s of the ground truth, then the expected output contained', () => {
    const question = (gt: string, expected: string, last?: { time: number; content: string }) => ({
      task_type: 'Proactive Output',
      question: `When it happens, output "${expected}". ${gt} ${JSON.stringify(last)}`,
      time_stamp: '00:00:20',
      ground_truth_time_stamp: gt,
      ground_truth_output: expected,
      ...(last ? { [MODEL_KEY]: { answered: last.time, dialog_history: [{ role: 'user', content: 'q', time: last.time, cost: 0 }, { role: 'assistant', ...last, cost: 0 }] } } : {}),
    });
    const file = parseQuestionFile([
      {
        video_path: 'v.mp4',
        questions: [
          question('00:00:29', '3', { time: 31, content: 'The score is 3 now' }), // +2 s, contained → right
          question('00:00:29', '3', { time: 27, content: '3' }), // −2 s → right
          question('00:00:29', '3', { time: 32, content: '3' }), // +3 s → timing wrong
          question('00:00:29', 'Break point', { time: 29, content: 'break point' }), // timing right, output case differs → wrong
          question('00:00:29', 'Goal', { time: 33, content: 'No.' }), // never said yes: last poll at gt + 4
          question('00:00:29', 'x'), // no dialog: not counted
        ],
      },
    ]);
    assert.equal(file.kind, 'proactive');
    const s = scoreQuestions(file.questions, file.kind);
    assert.deepEqual(s.tasks.map((t) => [t.abbreviation, t.total, t.time_correct, t.correct]), [['PO', 5, 3, 2]]);
    assert.equal(s.tasks[0]!.accuracy, 2 / 5);
    assert.equal(s.tasks[0]!.time_accuracy, 3 / 5);
    assert.deepEqual([s.overall.total, s.overall.correct, s.unanswered], [5, 2, 1]);
    assert.match(formatScoreTable(s), /answered within ±2 s\s+3\s+60\.00/);
  });

  it('resumes what the official loop would skip: a non-empty response, a proactive dialog ending in an answer', () => {
    const file = parseQuestionFile([{ video_path: 'v.mp4', questions: [mc('Counting', 'A', 'A'), mc('Counting', 'B', ''), mc('Counting', 'C')] }]);
    assert.deepEqual(file.questions.map(hasResponse), [true, false, false]);
  });
});

describe('StreamingBench prompts, as the official scripts build them', () => {
  it('the multiple-choice prompt: the official text, four options, "The best option is:"', () => {
    const prompt = multipleChoicePrompt({ question: "What's on the green table now?", options: ['A. Cards.', 'B. Chips.', 'C. Dice.', 'D. Nothing.', 'E. A cup.'] });
    assert.equal(
      prompt,
      'You are an advanced video question-answering AI assistant. You have been provided with some frames from the video and a multiple-choice question related to the video. ' +
        'Your task is to carefully analyze the video and provide the best answer to question, choosing from the four options provided. Respond with only the letter (A, B, C, or D) of the correct option.\n\n' +
        "Question: What's on the green table now?\n\nOptions:\nA. Cards.\nB. Chips.\nC. Dice.\nD. Nothing.\n\nThe best option is:",
    );
  });

  it('letters unlettered options (SQA), shows empty options as they are, and keeps four', () => {
    assert.deepEqual(officialOptions(['2.', '6.', '7.', '4.']), ['A. 2.', 'B. 6.', 'C. 7.', 'D. 4.']);
    assert.deepEqual(officialOptions(['A. x', '', 'B. y', 'C. z', '', 'D. w']), ['A. x', '', 'B. y', 'C. z']);
  });

  it('SQA prompts carry the earlier questions of their video with the answer keys, in file order', () => {
    const file = parseQuestionFile([
      [
        { video_path: 'v.mp4', questions: [{ task_type: 'Sequential Question Answering', question: 'Who serves?', time_stamp: '00:00:36', answer: 'A', options: ['Wang.', 'Fan.', 'Xu.', 'Ma.'] }] },
        { video_path: 'v.mp4', questions: [{ task_type: 'Sequential Question Answering', question: 'His score?', time_stamp: '00:03:02', answer: 'C', options: ['2.', '6.', '7.', '4.'] }] },
      ],
      [{ video_path: 'w.mp4', questions: [{ task_type: 'Sequential Question Answering', question: 'Other video?', time_stamp: '00:00:05', answer: 'B', options: ['A. p', 'B. q', 'C. r', 'D. s'] }] }],
    ]);
    const prompts = promptsFor(file.questions, 'sqa');
    const head =
      'You are an advanced video question-answering AI assistant. You have been provided with a video and a multiple-choice question related to the video. ' +
      'Your task is to carefully analyze the video and the provided context to answer the question, choosing from the four options provided. Respond with only the letter (A, B, C, or D) of the correct option.\n\n';
    const tail = "\n\nHere is the question. Answer it and don't confuse it with the previous conversation.\nQuestion: ";
    assert.equal(prompts.get('0.0/0'), `${head}${tail}Who serves?\n\nOptions:\nA. Wang.\nB. Fan.\nC. Xu.\nD. Ma.\n\nThe best option is:`);
    assert.equal(
      prompts.get('0.1/0'),
      `${head}Here are the contextual information related to the video. Please answer the questions based on the contextual information: ` +
        'At timestamp 00:00:36, the following question and answer occurred: Question: Who serves?; Options: A. Wang., B. Fan., C. Xu., D. Ma.; Answer: A; ' +
        `${tail}His score?\n\nOptions:\nA. 2.\nB. 6.\nC. 7.\nD. 4.\n\nThe best option is:`,
    );
    assert.equal(prompts.get('1.0/0'), `${head}${tail}Other video?\n\nOptions:\nA. p\nB. q\nC. r\nD. s\n\nThe best option is:`, 'each video starts without context');
  });

  it('proactive polls and instructions', () => {
    const q = { question: 'When the scoreboard shows 3 points for USA, output "3".', groundTruthOutput: '3' };
    assert.equal(proactiveQuery(q), 'When the scoreboard shows 3 points for USA, output "3". Is it the right time to output "3"? You can only answer yes or no.');
    assert.equal(
      proactivePrompt(proactiveQuery(q)),
      'You are an advanced image question-answering AI assistant. You have been provided with images and a question related to the images. ' +
        'Your task is to carefully analyze the images and provide the answer to the question. You need to carefully confirm whether the images content meet the conditions of the question, and then output the correct content.\n\n' +
        `Question: ${proactiveQuery(q)}\n\nThe answer is:\n`,
    );
  });
});
