/**
 * Spoken turns of the turn-latency benchmark, in one turn-detection mode: a sound goes out
 * through the live mic, and the turn(s) the server makes of it are read off the event log —
 * where it ended them (speech_stopped), what it heard, and the answer.
 */
import { type Client, type Event, drain, firstOf, playbackGaps, round1, sleep } from './client.ts';
import type { Mic, Utterance } from './mic.ts';

export type SpokenKind = 'question' | 'paused' | 'filler';

/** A sound to say, with the paused sentence's marks (ms into the sound). */
export interface SpokenItem {
  kind: SpokenKind;
  u: Utterance;
  pauseStartMs?: number;
  pauseEndMs?: number;
}

/** An end of turn before the last one: where it fell, relative to the pause (media ms). */
export interface Cut {
  audioEndMs: number;
  /** audio_end_ms minus the start of the inserted silence (null when the sound has no pause). */
  afterPauseStartMs: number | null;
  /** Before the second part began: the server ended the turn in the pause (or earlier). */
  beforeSecondPart: boolean;
}

export interface SpokenResult {
  kind: SpokenKind;
  mode: string;
  said: string;
  pauseMs: number | null;
  /** Transcripts of every turn the server made of the sound, in order. */
  heardTurns: string[];
  /** Transcript of the last turn. */
  heard: string | null;
  /** completed / cancelled (answered), ignored:<reason>, answered (filler, cancelled by us), not_detected, no_end_of_turn, no_response, error. */
  status: string;
  /** Ends of turn (speech_stopped) before the last one. */
  cuts: Cut[];
  falseCut: boolean;
  /** Answers started for a turn before the last one (a cut's first part), and how much of their audio was sent. */
  partAnswers: { status: string; audioMs: number }[];
  /** Audio deltas that arrived before the last turn's speech_stopped (of any answer). */
  audioBeforeEndOfTurn: number;
  clientFirstAudioMs: number | null;
  vadEndLagMs: number | null;
  speechEndSkewMs: number | null;
  metrics: Event | null;
  gaps: number[];
}

/** The sounds of one run, and how to reach the session. */
export interface SpokenContext {
  client: Client;
  mic: Mic;
}

/**
 * Says one sound and follows the turn(s) it makes until the last one is answered (its answer
 * played out) or ignored. Fillers that get an answer have it cancelled at once.
 */
export async function spokenTurn(ctx: SpokenContext, item: SpokenItem, mode: string, label: string): Promise<SpokenResult> {
  const { client, mic } = ctx;
  const { u } = item;
  const r: SpokenResult = {
    kind: item.kind,
    mode,
    said: u.text,
    pauseMs: item.pauseStartMs !== undefined && item.pauseEndMs !== undefined ? round1(item.pauseEndMs - item.pauseStartMs) : null,
    heardTurns: [],
    heard: null,
    status: 'no_response',
    cuts: [],
    falseCut: false,
    partAnswers: [],
    audioBeforeEndOfTurn: 0,
    clientFirstAudioMs: null,
    vadEndLagMs: null,
    speechEndSkewMs: null,
    metrics: null,
    gaps: [],
  };
  const mark = client.seq;
  let lastStartSeq: number | undefined;
  try {
    const said = await mic.say(u);
    // The whole sound (with Flite's trailing silence) is out; give the VAD's last decisions time to arrive.
    await sleep(300);
    // A late decision still counts (then it is the only start of the sound).
    const lastStart = client.between('input_audio_buffer.speech_started', mark).at(-1) ?? (await client.next('input_audio_buffer.speech_started', mark, () => true, 2_000).catch(() => undefined));
    if (!lastStart) {
      r.status = 'not_detected';
      if (item.kind !== 'filler') client.problem(`${label}: "${u.text}" was never detected as speech (no speech_started)`);
      return r;
    }
    const final = await client.next('input_audio_buffer.speech_stopped', mark, (e) => e.item_id === lastStart.item_id, 8_000).catch(() => null);
    if (!final) {
      r.status = 'no_end_of_turn';
      client.problem(`${label}: "${u.text}": no speech_stopped within 8 s of the end of the sound`);
      return r;
    }
    // Every earlier end of turn split the sound; in a paused sentence, so does a last one that
    // ends before the second part (whose words then never made a turn of their own).
    const secondPartMs = item.pauseEndMs !== undefined ? said.startMs + item.pauseEndMs : undefined;
    const pauseStartMedia = item.pauseStartMs !== undefined ? said.startMs + item.pauseStartMs : undefined;
    for (const stop of client.between('input_audio_buffer.speech_stopped', mark, final.seq + 1)) {
      const beforeSecondPart = secondPartMs !== undefined && stop.audio_end_ms < secondPartMs;
      if (stop.seq !== final.seq || beforeSecondPart) {
        r.cuts.push({ audioEndMs: stop.audio_end_ms, afterPauseStartMs: pauseStartMedia === undefined ? null : round1(stop.audio_end_ms - pauseStartMedia), beforeSecondPart: secondPartMs === undefined || beforeSecondPart });
      }
    }
    r.falseCut = item.kind === 'paused' && r.cuts.some((c) => c.beforeSecondPart);
    if (r.cuts.length && item.kind !== 'paused') client.problem(`${label}: "${u.text}" was split into ${r.cuts.length + 1} turns (ends at ${r.cuts.map((c) => c.audioEndMs).join(', ')} ms)`);
    lastStartSeq = lastStart.seq;
    r.audioBeforeEndOfTurn = client.between('response.output_audio.delta', mark, final.seq).length;
    if (r.audioBeforeEndOfTurn && !client.between('input_audio_buffer.speech_stopped', mark, final.seq).length) client.problem(`${label}: ${r.audioBeforeEndOfTurn} answer audio deltas arrived before the turn's speech_stopped`);

    const heard = await client.next('conversation.item.input_audio_transcription.completed', mark, (e) => e.item_id === final.item_id, 20_000);
    r.heard = heard.transcript;
    // The last turn is answered (a response created after its speech started) or filtered out.
    const outcome = await firstOf(
      client.next('response.created', lastStart.seq, () => true, 20_000),
      client.next('omnilive.turn.ignored', mark, (e) => e.item_id === final.item_id, 20_000),
    );
    if (outcome.type === 'omnilive.turn.ignored') {
      r.status = `ignored:${outcome.reason}`;
      if (item.kind !== 'filler' && !r.falseCut) client.problem(`${label}: "${u.text}" heard as "${heard.transcript}" was ignored (${outcome.reason})`);
      return r;
    }
    const id = outcome.response.id as string;
    if (outcome.seq < final.seq) client.problem(`${label}: response.created (#${outcome.seq}) before the turn's speech_stopped (#${final.seq})`);
    if (item.kind === 'filler') {
      r.status = 'answered';
      client.send({ type: 'response.cancel', response_id: id });
      await client.next('response.done', outcome.seq, (e) => e.response.id === id, 10_000);
      await sleep(300);
      return r;
    }
    const done = await client.next('response.done', outcome.seq, (e) => e.response.id === id, 60_000);
    const metrics = await client.next('omnilive.metrics', outcome.seq, (e) => e.response_id === id, 5_000).catch(() => null);
    const deltas = client.deltasOf(id);
    const early = deltas.filter((d) => d.seq < final.seq).length;
    if (early) client.problem(`${label}: ${early} audio deltas of the answer arrived before the turn's speech_stopped`);
    r.status = done.response.status;
    r.metrics = metrics;
    if (!metrics) client.problem(`${label}: no omnilive.metrics for answer ${id}`);
    // A last turn that ended in the pause answered the first part only: its timings say nothing of the sentence's end.
    if (secondPartMs !== undefined && final.audio_end_ms < secondPartMs) {
      await drain(deltas);
      return r;
    }
    r.vadEndLagMs = round1(final.audio_end_ms - said.offsetMs);
    r.clientFirstAudioMs = deltas[0] ? round1(deltas[0].recvAt - said.offsetAt) : null;
    // The server's latencies count from its own speech-end mark; recover it from the first
    // delta (same clock, same process) and compare with when that audio was really sent.
    const endChunkAt = mic.sentAtMedia(final.audio_end_ms);
    if (deltas[0] && metrics?.latency_ms.first_audio_delta != null && endChunkAt !== undefined) {
      r.speechEndSkewMs = round1(deltas[0].recvAt - metrics.latency_ms.first_audio_delta - endChunkAt);
      if (Math.abs(r.speechEndSkewMs) > mic.chunkMs / 2) {
        client.problem(`${label}: the server dated the end of speech (audio_end_ms ${final.audio_end_ms}) ${r.speechEndSkewMs} ms after the chunk holding it was sent, so its latencies read short`);
      }
    }
    r.gaps = playbackGaps(deltas);
    checkTurnOrder(client, label, [final, heard, outcome, deltas[0], done, metrics]);
    await drain(deltas);
  } catch (error) {
    r.status = r.status === 'no_response' ? 'error' : r.status;
    client.problem(`${label}: "${u.text}": ${(error as Error).message}`);
    await sleep(500);
  } finally {
    // Answers to the parts before the last turn (a cut's first part): how they ended, how much audio went out.
    for (const created of lastStartSeq === undefined ? [] : client.between('response.created', mark, lastStartSeq)) {
      const id = created.response.id as string;
      const done = client.events.find((e) => e.type === 'response.done' && e.response.id === id);
      r.partAnswers.push({ status: done?.response.status ?? 'in_progress', audioMs: done?.response.metadata?.audio_sent_ms ?? 0 });
    }
    const items = new Set(client.between('input_audio_buffer.speech_started', mark).map((e) => e.item_id as string));
    r.heardTurns = client.between('conversation.item.input_audio_transcription.completed', mark, Infinity, (e) => items.has(e.item_id)).map((e) => e.transcript as string);
  }
  return r;
}

/** Events of one turn must arrive in pipeline order. */
function checkTurnOrder(client: Client, label: string, chain: (Event | null | undefined)[]): void {
  const names = ['speech_stopped', 'transcription.completed', 'response.created', 'first audio delta', 'response.done', 'omnilive.metrics'];
  let last: Event | undefined;
  chain.forEach((e, k) => {
    if (!e) return client.problem(`${label}: no ${names[k]}`);
    if (last && e.seq < last.seq) client.problem(`${label}: ${names[k]} (#${e.seq}) arrived before ${names[chain.indexOf(last)]} (#${last.seq})`);
    last = e;
  });
}
