import type { ServerEventBody } from '../protocol/server-events.ts';
import type { Response } from './response.ts';

/**
 * `omnilive.metrics` for a spoken turn that got an answer: latency of each stage from the
 * moment the audio where speech ended reached us, and the engines' own compute, so the
 * pipeline's overhead shows apart. Typed questions have no speech timings: undefined.
 */
export function turnMetrics(response: Response): Extract<ServerEventBody, { type: 'omnilive.metrics' }> | undefined {
  const t = response.timings;
  if (t.speechEnd === undefined) return undefined;
  const round = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : Math.round(ms * 10) / 10);
  const since = (mark: number | undefined) => (mark === undefined ? null : round(mark - t.speechEnd!));
  const llmStart = t.retrieved ?? t.responseStart;
  const llmFirstTokenMs = t.firstLlmToken !== undefined && llmStart !== undefined ? t.firstLlmToken - llmStart : null;
  const retrievalMs = t.retrieved !== undefined && t.responseStart !== undefined ? t.retrieved - t.responseStart : 0;
  const total = t.firstAudioDelta !== undefined && t.endOfTurn !== undefined ? t.firstAudioDelta - t.endOfTurn : null;
  // Each engine's work as an interval ending at its mark; only what ran after the end of the turn
  // delays the answer (an answer prepared during the pause did much of it before).
  const afterEndOfTurn = (end: number | undefined, ms: number | null | undefined) =>
    end === undefined || !ms || t.endOfTurn === undefined ? 0 : Math.max(0, end - Math.max(end - ms, t.endOfTurn));
  const compute =
    afterEndOfTurn(t.asrFinal, t.asrComputeMs) + afterEndOfTurn(t.retrieved, retrievalMs) + afterEndOfTurn(t.firstLlmToken, llmFirstTokenMs) + afterEndOfTurn(t.firstTtsAudio, t.firstTtsComputeMs);
  return {
    type: 'omnilive.metrics',
    response_id: response.id,
    status: response.status,
    latency_ms: {
      end_of_turn: since(t.endOfTurn),
      asr_final: since(t.asrFinal),
      retrieval: since(t.retrieved),
      first_llm_token: since(t.firstLlmToken),
      first_tts_audio: since(t.firstTtsAudio),
      first_audio_delta: since(t.firstAudioDelta),
    },
    compute_ms: {
      asr_finish: round(t.asrComputeMs),
      retrieval: round(retrievalMs),
      llm_first_token: round(llmFirstTokenMs),
      tts_first_sentence: round(t.firstTtsComputeMs),
    },
    // end of turn → first audio delta, minus the engines' compute in that span
    pipeline_overhead_ms: total === null ? null : round(total - compute),
    speculative: t.speculative ?? false,
    speculation_discarded: t.speculationDiscarded ?? 0,
  };
}
