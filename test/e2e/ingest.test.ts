import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { encodeWav } from '../../server/audio/pcm.ts';
import { FFMPEG_PATH } from '../../server/ingest/decode.ts';
import { closeSpeech, sequence, silence, speak } from '../helpers/speech.ts';

const run = promisify(execFile);
const CLI = path.resolve(import.meta.dirname, '../../server/bin/omnilive.mjs');

type Event = { type: string } & Record<string, any>;

async function ingest(file: string, dataDir: string, ...flags: string[]): Promise<{ events: Event[]; stderr: string }> {
  const { stdout, stderr } = await run(process.execPath, [CLI, 'ingest', file, '--jsonl', '--data', dataDir, ...flags], { maxBuffer: 256 * 1024 * 1024, timeout: 120_000 });
  return { events: stdout.trim().split('\n').map((l) => JSON.parse(l)), stderr };
}

const transcripts = (events: Event[]) => events.filter((e) => e.type === 'conversation.item.input_audio_transcription.completed').map((e) => e.transcript);

describe('omnilive ingest FILE', () => {
  let dir: string;
  let file: string;
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'omnilive-ingest-'));
    const pcm = sequence(
      silence(800),
      await speak('what is the weather like today'),
      silence(1500),
      await speak('tell me a long story about the sea', { voice: 'awb' }),
      silence(1500),
    );
    fs.writeFileSync(path.join(dir, 'talk.wav'), encodeWav(pcm, 16000));
    // Any file ffmpeg reads: a compressed stereo 48 kHz file, with a video track.
    file = path.join(dir, 'talk.mkv');
    const r = spawnSync(FFMPEG_PATH, ['-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=5', '-i', path.join(dir, 'talk.wav'), '-shortest', '-ac', '2', '-ar', '48000', '-c:a', 'libopus', '-c:v', 'mpeg4', file]);
    assert.equal(r.status, 0, r.stderr?.toString());
  });
  after(async () => {
    fs.rmSync(dir, { recursive: true, force: true });
    await closeSpeech();
  });

  it('--speed max and --speed 1 yield the same transcripts, and --ask injects a question', async () => {
    const fast = await ingest(file, path.join(dir, 'data'), '--speed', 'max', '--ask', '4.5=what did I say about the weather');
    const live = await ingest(file, path.join(dir, 'data'), '--speed', '1');
    const heard = transcripts(fast.events);
    assert.equal(heard.length, 2, JSON.stringify(heard));
    assert.match(heard[0]!, /weather/);
    assert.match(heard[1]!, /story/);
    assert.deepEqual(transcripts(live.events), heard);
    // The typed question at 4.5 s is answered from what was heard before it.
    const typed = fast.events.find((e) => e.type === 'conversation.item.added' && e.item.content?.[0]?.type === 'input_text');
    assert.equal(typed?.item.content[0].text, 'what did I say about the weather');
    const answers = fast.events.filter((e) => e.type === 'response.done' && e.response.status === 'completed');
    assert.ok(answers.some((e) => /you said: what is the weather like today/.test(e.response.output[0].content[0].transcript)), JSON.stringify(answers.map((e) => e.response.output[0]?.content[0])));
    assert.match(fast.stderr, /real time/);
  });

  it('a file that is not media fails with a clear error', async () => {
    const bad = path.join(dir, 'notes.txt');
    fs.writeFileSync(bad, 'hello');
    await assert.rejects(ingest(bad, path.join(dir, 'data')), (e: Error & { stderr: string; code: number }) => {
      // ffmpeg would read a .txt as ANSI art (a video); a text file is still not a recording.
      assert.match(e.stderr, /'[^']*notes\.txt' has no audio or video stream \(a text file\)/);
      assert.equal(e.code, 1);
      return true;
    });
  });
});
