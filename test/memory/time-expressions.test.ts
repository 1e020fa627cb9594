import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseTimeExpression } from '../../memory/index.ts';

const MIN = 60_000;
const NOW = 30 * MIN; // half an hour into the session
const WALL = new Date(2025, 5, 14, 15, 30, 0).getTime(); // 15:30 local time

const parse = (text: string, nowMs = NOW) => parseTimeExpression(text, nowMs, WALL);

test('"N units ago" in digits and words → a media window around now − N, ±max(30 s, 20 %)', () => {
  const cases: [string, number][] = [
    ['what was on screen 5 minutes ago?', 5 * MIN],
    ['what did I say two minutes ago', 2 * MIN],
    ['ten minutes ago', 10 * MIN],
    ['twenty-five minutes ago', 25 * MIN],
    ['twenty five minutes ago', 25 * MIN],
    ['a minute ago', MIN],
    ['an hour and a half ago', 90 * MIN],
    ['half an hour ago', 30 * MIN],
    ['30 seconds ago', 30_000],
    ['a couple of minutes ago', 2 * MIN],
    ['a few minutes ago', 3 * MIN],
    ['1.5 mins ago', 1.5 * MIN],
  ];
  for (const [text, offset] of cases) {
    const r = parse(text, 120 * MIN);
    assert.ok(r, text);
    const tol = Math.max(30_000, 0.2 * offset);
    assert.equal(r.basis, 'media', text);
    assert.equal(r.centerMs, 120 * MIN - offset, text);
    assert.equal(r.fromMs, 120 * MIN - offset - tol, text);
    assert.equal(r.toMs, Math.min(120 * MIN, 120 * MIN - offset + tol), text);
  }
  assert.equal(parse('what did I see two minutes ago?')?.phrase, 'two minutes ago');
  assert.equal(parse('what did the whiteboard say two minutes ago?')?.rest, 'what did the whiteboard say ?');
});

test('a time before this session started becomes a wall-clock window', () => {
  const r = parse('what was on the desk two hours ago', 10 * MIN);
  assert.equal(r?.basis, 'wall');
  assert.equal(r?.centerMs, WALL - 120 * MIN);
  assert.equal(r?.toMs! - r?.fromMs!, 2 * 0.2 * 120 * MIN);
});

test('"just now", "a moment ago" and "in the last N minutes" end at now', () => {
  for (const text of ['what was that just now', 'what did he say a moment ago', 'moments ago']) {
    assert.deepEqual({ ...parse(text), phrase: '', rest: '' }, { basis: 'media', fromMs: NOW - MIN, toMs: NOW, centerMs: NOW, phrase: '', rest: '' }, text);
  }
  assert.deepEqual([parse('anything in the last 5 minutes?')?.fromMs, parse('anything in the last 5 minutes?')?.toMs], [NOW - 5 * MIN, NOW]);
  assert.equal(parse('what happened over the past ten minutes')?.fromMs, NOW - 10 * MIN);
  assert.equal(parse('in the last minute')?.fromMs, NOW - MIN);
  assert.equal(parse('during the past hour')?.fromMs, 0, 'clamped at the session start');
});

test('"at the start" / "at the beginning" → the first minutes of media time', () => {
  for (const text of ['what was on screen at the start?', 'at the beginning of the video', 'in the very beginning', 'when we started']) {
    const r = parse(text);
    assert.equal(r?.basis, 'media', text);
    assert.equal(r?.fromMs, 0, text);
    assert.equal(r?.toMs, 3 * MIN, text); // 10 % of 30 minutes
  }
  assert.equal(parse('at the start', 2 * MIN)?.toMs, MIN, 'at least one minute');
  assert.equal(parse('at the start', 600 * MIN)?.toMs, 5 * MIN, 'at most five minutes');
});

test('"X minutes in" and "the N minute mark" point into media time', () => {
  const r = parse('what was on the slide five minutes in?');
  assert.deepEqual([r?.basis, r?.centerMs, r?.fromMs, r?.toMs], ['media', 5 * MIN, 5 * MIN - MIN, 5 * MIN + MIN]);
  assert.equal(parse('12 minutes into the video, who spoke')?.centerMs, 12 * MIN);
  assert.equal(parse('at the 3 minute mark')?.centerMs, 3 * MIN);
  assert.equal(parse('two minutes in the kitchen'), undefined, '"in" must end the phrase');
});

test('"earlier today", "this morning", "yesterday" → wall-clock ranges in local time', () => {
  const midnight = new Date(2025, 5, 14).getTime();
  assert.deepEqual([parse('what did I read earlier today')?.basis, parse('earlier today')?.fromMs, parse('earlier today')?.toMs], ['wall', midnight, WALL]);
  assert.deepEqual([parse('this morning')?.fromMs, parse('this morning')?.toMs], [midnight, midnight + 12 * 60 * MIN]);
  const y = parse('what was on the whiteboard yesterday?');
  assert.deepEqual([y?.fromMs, y?.toMs], [midnight - 24 * 60 * MIN, midnight]);
});

test('no time words → undefined', () => {
  for (const text of ['where are my keys?', 'what is the agenda', 'a minute', 'in the kitchen', 'start the timer']) assert.equal(parse(text), undefined, text);
});
