import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkInstruction, defaultInstructionFilterOptions as d } from '../../../server/reasoning/index.ts';

test('fillers, empty and garbled fragments do not start a response', () => {
  for (const text of ['', '   ', 'um', 'ok', 'mm-hm', 'uh huh', 'Okay, yeah.', 'enn']) {
    assert.equal(checkInstruction(text, d).accept, false, text);
  }
  assert.deepEqual(checkInstruction('the', d), { accept: false, reason: 'fragment' });
});

test('questions and requests are answered, even short ones', () => {
  for (const text of ['what is this', 'where is the red mug', 'tell me a story', 'why?', 'Um, what did I say about the car?']) {
    assert.equal(checkInstruction(text, d).accept, true, text);
  }
});

test("mode 'off' answers anything non-empty; a wake word restricts to turns that name it", () => {
  assert.equal(checkInstruction('ok', { ...d, mode: 'off' }).accept, true);
  assert.equal(checkInstruction('', { ...d, mode: 'off' }).accept, false);
  const wake = { ...d, wakeWord: 'omni' };
  assert.deepEqual(checkInstruction('what time is it', wake), { accept: false, reason: 'not_addressed' });
  assert.equal(checkInstruction('omni what time is it', wake).accept, true);
});
