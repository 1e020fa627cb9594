/**
 * Interruptions of the turn-latency benchmark: the user talks over an answer (barge-in: audio
 * paused at the onset, then the answer cancelled), and short noises during an answer (false
 * interruptions: audio paused, then resumed, nothing lost or repeated).
 */
import { pcm16FromBase64 } from '../../server/audio/pcm.ts';
import { type Client, type Event, audioMs, firstOf, round1, sleep } from './client.ts';
import { type Mic, OUTPUT_RATE, type Utterance } from './mic.ts';

/** A typed question with a long spoken answer (it lists every time the weather came up). */
export const TYPED_QUESTION = 'what did I say about the weather';
/** Two runs of one answer may differ in length by one audio piece at most. */
const PIECE_MS = 100;

export interface BargeInResult {
  said: string;
  status: string;
  /** Onset → omnilive.output_audio.paused (ms, client clock). */
  pausedMs: number | null;
  speechStartedMs: number | null;
  /** Where the VAD put the start of speech, after the first speech sample (media ms). */
  vadOnsetLagMs: number | null;
  /** speech_started after the chunk completing the VAD's minimum speech run left: the server's own share. */
  serverReactionMs: number | null;
  cancelledMs: number | null;
  lastDeltaMs: number | null;
  /** Audio deltas of the answer between its paused event and its response.done. */
  deltasWhilePaused: number;
  lateDeltas: number;
  audioSentMs: number | null;
  audioHeardMs: number | null;
  heard: string | null;
  followUp: string;
  clientCancelMs: number | null;
}

const askTyped = (client: Client) => {
  client.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: TYPED_QUESTION }] } });
  client.send({ type: 'response.create' });
};

/** The user talks over a typed question's answer, 0.3–1.5 s into its audio. */
export async function bargeIn(client: Client, mic: Mic, u: Utterance, random: () => number, label: string): Promise<BargeInResult> {
  const r: BargeInResult = { said: u.text, status: 'no_response', pausedMs: null, speechStartedMs: null, vadOnsetLagMs: null, serverReactionMs: null, cancelledMs: null, lastDeltaMs: null, deltasWhilePaused: 0, lateDeltas: 0, audioSentMs: null, audioHeardMs: null, heard: null, followUp: 'none', clientCancelMs: null };
  let sent: Promise<unknown> = Promise.resolve();
  try {
    const mark = client.seq;
    askTyped(client);
    const answer = await client.next('response.created', mark);
    const id = answer.response.id as string;
    await client.next('response.output_audio.delta', answer.seq, (e) => e.response_id === id);
    await sleep(300 + random() * 1200);
    const talk = client.seq;
    const said = mic.say(u);
    sent = said;
    const started = await client.next('input_audio_buffer.speech_started', talk, () => true, 10_000);
    const done = await client.next('response.done', answer.seq, (e) => e.response.id === id, 15_000);
    const { onsetAt, onsetMs } = await said;
    // speech_started is due once minSpeechMs (64 ms) of speech frames from audio_start_ms
    // arrived, plus the 24→16 kHz resampler's ~1.1 ms look-ahead.
    const decidingChunkAt = mic.sentAtMedia(started.audio_start_ms + 64 + 26 / 24);
    // Anything of the cancelled answer still on the wire would arrive within a few ms.
    await sleep(300);
    const deltas = client.deltasOf(id);
    const last = deltas.filter((d) => d.seq < done.seq).at(-1);
    const pause = client.between('omnilive.output_audio.paused', talk, Infinity, (e) => e.response_id === id)[0];
    r.status = done.response.status;
    r.pausedMs = pause ? round1(pause.recvAt - onsetAt) : null;
    r.speechStartedMs = round1(started.recvAt - onsetAt);
    r.vadOnsetLagMs = round1(started.audio_start_ms - onsetMs);
    r.serverReactionMs = decidingChunkAt === undefined ? null : round1(started.recvAt - decidingChunkAt);
    r.cancelledMs = round1(done.recvAt - onsetAt);
    r.lastDeltaMs = last ? round1(last.recvAt - onsetAt) : null;
    r.deltasWhilePaused = pause ? deltas.filter((d) => d.seq > pause.seq && d.seq < done.seq).length : 0;
    r.lateDeltas = deltas.filter((d) => d.seq > done.seq).length;
    r.audioSentMs = done.response.metadata?.audio_sent_ms ?? null;
    r.audioHeardMs = done.response.metadata?.audio_heard_ms ?? null;
    if (!pause) client.problem(`${label}: no omnilive.output_audio.paused for the answer before it was cancelled`);
    else if (pause.seq > started.seq) client.problem(`${label}: output_audio.paused (#${pause.seq}) after speech_started (#${started.seq})`);
    if (r.deltasWhilePaused) client.problem(`${label}: ${r.deltasWhilePaused} audio deltas after output_audio.paused`);
    const resumed = client.between('omnilive.output_audio.resumed', talk, Infinity, (e) => e.response_id === id);
    if (resumed.length) client.problem(`${label}: the answer resumed (${resumed.length}×) although speech was confirmed`);
    if (r.status !== 'cancelled') client.problem(`${label}: answer ended '${r.status}' (${done.response.status_details?.reason ?? 'no reason'}) instead of cancelled`);
    if (started.seq > done.seq) client.problem(`${label}: response.done (#${done.seq}) before speech_started (#${started.seq})`);
    if (r.lateDeltas) client.problem(`${label}: ${r.lateDeltas} audio deltas after response.done`);

    // The interruption is a turn of its own: wait for it, and cancel its answer to keep the run short.
    const heard = await client.next('conversation.item.input_audio_transcription.completed', talk, (e) => e.item_id === started.item_id, 20_000);
    r.heard = heard.transcript;
    const outcome = await firstOf(
      client.next('response.created', talk, (e) => e.response.id !== id, 8_000),
      client.next('omnilive.turn.ignored', talk, (e) => e.item_id === started.item_id, 8_000),
    );
    if (outcome.type === 'omnilive.turn.ignored') {
      r.followUp = `ignored:${outcome.reason}`;
    } else {
      const followId = outcome.response.id as string;
      const cancelAt = performance.now();
      client.send({ type: 'response.cancel', response_id: followId });
      const followDone = await client.next('response.done', outcome.seq, (e) => e.response.id === followId, 10_000);
      r.clientCancelMs = round1(followDone.recvAt - cancelAt);
      r.followUp = followDone.response.status;
    }
  } catch (error) {
    client.problem(`${label}: "${u.text}": ${(error as Error).message}`);
  }
  await sent;
  await sleep(300);
  return r;
}

export interface FalseInterruptionResult {
  burstMs: number;
  levelDb: number;
  /** The burst's onset, ms after the answer's first audio delta (client clock). */
  atMs: number | null;
  status: string;
  /** Answers created while it played other than the one interrupted (none expected). */
  otherResponses: number;
  speechStarted: number;
  pauses: number;
  resumes: number;
  /** Onset → omnilive.output_audio.paused (ms). */
  pausedMs: number | null;
  /** paused_ms of the resumed event. */
  pausedForMs: number | null;
  /** Sum of the answer's audio delta durations, and the server's own count. */
  deltaSumMs: number | null;
  audioSentMs: number | null;
  /** The same typed question answered just before, uninterrupted. */
  referenceMs: number | null;
  sameTranscript: boolean;
  /** Same transcript: same audio length within one piece, and the same samples. */
  lengthMatches: boolean | null;
  samplesMatch: boolean | null;
  /** Where the audio first differs from the reference (ms into the answer), when it does. */
  firstDifferenceMs: number | null;
  /** audio_ms of the paused event: where the answer stopped. */
  pausedAtAudioMs: number | null;
}

const transcriptOf = (done: Event) =>
  ((done.response.output ?? []) as any[])
    .flatMap((o) => o.content ?? [])
    .map((c: any) => c.transcript ?? c.text ?? '')
    .join(' ')
    .trim();
const pcmOf = (deltas: Event[]) => {
  const parts = deltas.map((d) => pcm16FromBase64(d.delta));
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) out.set(p, (at += p.length) - p.length);
  return out;
};

/**
 * A noise burst (a cough, a door) during an answer: the answer should pause at its onset,
 * resume once no speech follows, complete as one response and lose or repeat no audio — its
 * audio is compared with an uninterrupted answer to the same typed question just before.
 */
export async function falseInterruption(client: Client, mic: Mic, burst: Utterance, levelDb: number, random: () => number, label: string): Promise<FalseInterruptionResult> {
  const burstMs = round1((burst.pcm.length * 1000) / 24000);
  const r: FalseInterruptionResult = { burstMs, levelDb, atMs: null, status: 'no_response', otherResponses: 0, speechStarted: 0, pauses: 0, resumes: 0, pausedMs: null, pausedForMs: null, deltaSumMs: null, audioSentMs: null, referenceMs: null, sameTranscript: false, lengthMatches: null, samplesMatch: null, firstDifferenceMs: null, pausedAtAudioMs: null };
  let sent: Promise<unknown> = Promise.resolve();
  try {
    // The reference: the same question, nobody making a sound.
    let mark = client.seq;
    askTyped(client);
    const ref = await client.next('response.created', mark);
    const refDone = await client.next('response.done', ref.seq, (e) => e.response.id === ref.response.id, 60_000);
    const refDeltas = client.deltasOf(ref.response.id);
    r.referenceMs = round1(refDeltas.reduce((n, d) => n + audioMs(d), 0));
    await sleep(300);

    mark = client.seq;
    askTyped(client);
    const answer = await client.next('response.created', mark);
    const id = answer.response.id as string;
    const first = await client.next('response.output_audio.delta', answer.seq, (e) => e.response_id === id);
    await sleep(300 + random() * 1200);
    const talk = client.seq;
    const said = mic.say(burst);
    sent = said;
    const done = await client.next('response.done', answer.seq, (e) => e.response.id === id, 60_000);
    const { onsetAt } = await said;
    await sleep(300);
    r.atMs = round1(onsetAt - first.recvAt);
    r.status = done.response.status;
    r.otherResponses = client.between('response.created', talk, done.seq, (e) => e.response.id !== id).length;
    r.speechStarted = client.between('input_audio_buffer.speech_started', talk, done.seq).length;
    const pauses = client.between('omnilive.output_audio.paused', talk, Infinity, (e) => e.response_id === id);
    const resumes = client.between('omnilive.output_audio.resumed', talk, Infinity, (e) => e.response_id === id);
    r.pauses = pauses.length;
    r.resumes = resumes.length;
    r.pausedMs = pauses[0] ? round1(pauses[0].recvAt - onsetAt) : null;
    r.pausedAtAudioMs = pauses[0]?.audio_ms ?? null;
    r.pausedForMs = resumes[0]?.paused_ms ?? null;
    const deltas = client.deltasOf(id);
    r.deltaSumMs = round1(deltas.reduce((n, d) => n + audioMs(d), 0));
    r.audioSentMs = done.response.metadata?.audio_sent_ms ?? null;
    r.sameTranscript = transcriptOf(done) !== '' && transcriptOf(done) === transcriptOf(refDone);
    if (r.sameTranscript) {
      r.lengthMatches = Math.abs(r.deltaSumMs - r.referenceMs) <= PIECE_MS;
      const a = pcmOf(refDeltas);
      const b = pcmOf(deltas);
      let k = 0;
      while (k < a.length && k < b.length && a[k] === b[k]) k++;
      r.samplesMatch = k === a.length && k === b.length;
      r.firstDifferenceMs = r.samplesMatch ? null : round1((k * 1000) / OUTPUT_RATE);
    }

    if (r.status !== 'completed') client.problem(`${label}: the answer ended '${r.status}' (${done.response.status_details?.reason ?? 'no reason'}) after a ${burstMs} ms noise burst`);
    if (r.speechStarted) client.problem(`${label}: a ${burstMs} ms noise burst at ${levelDb} dBFS was taken for speech (speech_started)`);
    if (r.otherResponses) client.problem(`${label}: ${r.otherResponses} other responses started during the interrupted answer`);
    if (r.pauses !== r.resumes) client.problem(`${label}: ${r.pauses} pauses but ${r.resumes} resumes`);
    if (r.audioSentMs !== null && Math.abs(r.deltaSumMs - r.audioSentMs) > 1) client.problem(`${label}: audio deltas add up to ${r.deltaSumMs} ms but audio_sent_ms is ${r.audioSentMs}`);
    if (!r.sameTranscript) client.problem(`${label}: the answer's transcript differs from the uninterrupted one; audio not compared`);
    else if (!r.lengthMatches) client.problem(`${label}: the answer's audio is ${r.deltaSumMs} ms, uninterrupted ${r.referenceMs} ms (paused at ${r.pausedAtAudioMs} ms): audio lost or repeated`);
    else if (!r.samplesMatch) client.problem(`${label}: the answer's audio differs from the uninterrupted one from ${r.firstDifferenceMs} ms (paused at ${r.pausedAtAudioMs} ms)`);
    // Let the answer play out before the next step.
    const playEnd = first.recvAt + r.deltaSumMs + (r.pausedForMs ?? 0);
    await sleep(Math.max(0, playEnd - performance.now()) + 200);
  } catch (error) {
    client.problem(`${label}: ${(error as Error).message}`);
  }
  await sent;
  await sleep(300);
  return r;
}
