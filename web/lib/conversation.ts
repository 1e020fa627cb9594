// The transcript and the memory clip strip, derived from server events (pure: event in, new state out).
import { wireItemText, type ServerEvent, type WireResponse } from '../../server/protocol/server-events';

export type TurnState = 'partial' | 'final' | 'cancelled' | 'failed';

export type Turn = {
  /** item_id for user turns, response_id for assistant turns. */
  id: string;
  role: 'user' | 'assistant' | 'note';
  text: string;
  state: TurnState;
  typed?: boolean;
  /** Assistant turns: spoken answers show the transcript of the speech, text answers the text. */
  spoken?: boolean;
  flag?: string;
  details: string[];
  latencyMs?: number;
  /** Assistant turns the server spoke up with unasked, because a watch held: its condition. */
  watch?: { id: string; condition: string };
};

export type Clip = { id: string; startMs: number; src: string; ocrText: string };

export type Conversation = { turns: Turn[]; clips: Clip[] };

export const emptyConversation: Conversation = { turns: [], clips: [] };

const MAX_CLIPS = 30;

function upsert(conv: Conversation, id: string, role: Turn['role'], change: (turn: Turn) => Partial<Turn>, create?: () => Turn): Conversation {
  const index = conv.turns.findIndex((t) => t.id === id && t.role === role);
  if (index < 0) {
    if (!create) return conv;
    const turn = create();
    return { ...conv, turns: [...conv.turns, { ...turn, ...change(turn) }] };
  }
  const turns = conv.turns.slice();
  turns[index] = { ...turns[index]!, ...change(turns[index]!) };
  return { ...conv, turns };
}

const newUserTurn = (id: string) => (): Turn => ({ id, role: 'user', text: '', state: 'partial', details: [] });
const newAnswer = (id: string, spoken: boolean) => (): Turn => ({ id, role: 'assistant', text: '', state: 'partial', spoken, details: [] });

/** The watch behind a proactive answer (response.metadata `proactive: "true"`), if it is one. */
function watchOf(response: WireResponse): Pick<Turn, 'watch'> {
  const m = response.metadata;
  if (m?.proactive !== 'true') return {};
  return { watch: { id: String(m.watch_id ?? ''), condition: typeof m.watch_condition === 'string' ? m.watch_condition : '' } };
}

function ms(value: unknown): string {
  return typeof value === 'number' ? `${Math.round(value)} ms` : '–';
}

export function addNote(conv: Conversation, text: string): Conversation {
  const note: Turn = { id: `note_${conv.turns.length}`, role: 'note', text, state: 'final', details: [] };
  return { ...conv, turns: [...conv.turns, note] };
}

/** The session went away mid-turn: what was still arriving stays as far as it got, marked as cut off (an empty one goes). */
export function cutOffTurns(conv: Conversation, flag: string): Conversation {
  if (!conv.turns.some((t) => t.state === 'partial')) return conv;
  const turns = conv.turns
    .filter((t) => t.state !== 'partial' || t.text.trim())
    .map((t) => (t.state === 'partial' ? { ...t, text: t.text.trim(), state: 'cancelled' as const, flag } : t));
  return { ...conv, turns };
}

/** `spokenDefault`: whether answers are spoken unless a response says otherwise (the session's modalities). */
export function applyEvent(conv: Conversation, ev: ServerEvent, spokenDefault: boolean): Conversation {
  switch (ev.type) {
    case 'input_audio_buffer.speech_started':
      return upsert(conv, ev.item_id, 'user', () => ({}), newUserTurn(ev.item_id));
    case 'conversation.item.added': {
      const item = ev.item;
      if (item.type !== 'message' || item.role !== 'user') return conv;
      const content = item.content;
      if (content[0]?.type === 'input_text') {
        const text = content.map((c) => ('text' in c ? c.text : '')).join('\n');
        return upsert(conv, item.id, 'user', () => ({ text, state: 'final', typed: true }), newUserTurn(item.id));
      }
      return upsert(conv, item.id, 'user', () => ({}), newUserTurn(item.id));
    }
    case 'conversation.item.input_audio_transcription.delta':
      return upsert(conv, ev.item_id, 'user', (t) => ({ text: t.text + (ev.delta ?? '') }), newUserTurn(ev.item_id));
    case 'conversation.item.input_audio_transcription.completed': {
      const text = String(ev.transcript ?? '').trim();
      // Noise with no words in it: nothing to show, and nothing will answer it.
      if (!text) return { ...conv, turns: conv.turns.filter((t) => !(t.role === 'user' && t.id === ev.item_id)) };
      return upsert(conv, ev.item_id, 'user', () => ({ text, state: 'final' }), newUserTurn(ev.item_id));
    }
    case 'omnilive.turn.ignored':
      return upsert(conv, ev.item_id, 'user', (t) => ({ details: [...t.details, `not answered (${String(ev.reason ?? '').replace(/_/g, ' ')})`] }));
    case 'response.created': {
      const modalities: string[] | undefined = ev.response?.output_modalities;
      return upsert(conv, ev.response.id, 'assistant', () => watchOf(ev.response), newAnswer(ev.response.id, modalities ? modalities.includes('audio') : spokenDefault));
    }
    case 'response.output_audio_transcript.delta':
    case 'response.output_text.delta': {
      const spoken = ev.type === 'response.output_audio_transcript.delta';
      return upsert(conv, ev.response_id, 'assistant', (t) => (t.spoken === spoken ? { text: t.text + (ev.delta ?? '') } : {}), newAnswer(ev.response_id, spoken));
    }
    case 'response.done': {
      const r = ev.response;
      const spoken = r.output_modalities ? r.output_modalities.includes('audio') : spokenDefault;
      return upsert(
        conv,
        r.id,
        'assistant',
        (t) => {
          if (r.status === 'completed') {
            // The answer's words (a response that only called tools has none to show).
            const message = r.output.find((item) => item.type === 'message');
            const final = message ? wireItemText(message) : undefined;
            return { text: (final ?? t.text).trim(), state: 'final' };
          }
          if (r.status === 'cancelled') {
            const flag = r.status_details?.type === 'cancelled' && r.status_details.reason === 'turn_detected' ? 'cancelled — you interrupted' : 'cancelled';
            return { text: t.text.trim(), state: 'cancelled', flag };
          }
          const message = r.status_details?.type === 'failed' ? r.status_details.error.message : undefined;
          return { state: 'failed', flag: `failed${message ? `: ${message}` : ''}` };
        },
        newAnswer(r.id, spoken),
      );
    }
    case 'omnilive.metrics': {
      const l = ev.latency_ms;
      const firstAudio = l.first_audio_delta;
      if (typeof firstAudio !== 'number') return conv;
      return upsert(conv, ev.response_id, 'assistant', (t) => ({
        latencyMs: Math.round(firstAudio),
        details: [...t.details, `first audio ${ms(firstAudio)} after you stopped (transcript ${ms(l.asr_final)}, first token ${ms(l.first_llm_token)})`],
      }));
    }
    case 'omnilive.clip.committed': {
      const c = ev.clip;
      if (!c?.keyframe_jpeg || conv.clips.some((x) => x.id === c.id)) return conv;
      const clip: Clip = { id: c.id, startMs: c.start_ms ?? 0, src: `data:image/jpeg;base64,${c.keyframe_jpeg}`, ocrText: c.ocr_text ?? '' };
      return { ...conv, clips: [...conv.clips, clip].slice(-MAX_CLIPS) };
    }
    default:
      return conv;
  }
}

/** 75_300 → "1:15". */
export function clockLabel(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}
