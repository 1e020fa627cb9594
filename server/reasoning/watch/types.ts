/**
 * Watches: standing requests ("tell me when the gate number is on the screen") checked against
 * everything new the session of their user sees and hears; when one holds, the assistant speaks
 * up unasked. This file is the vocabulary shared by the rules, the judge, the store and the session.
 */
import type { ClipScene } from '../../../memory/types.ts';
import type { SoundEvent } from '../../perception/sound/types.ts';

/** What a condition means, as rules over the facts OmniLive has; `judged` is left to a language model. */
export type WatchRule =
  /** All these words (lower case; inner punctuation as in "9:40" or "b-17" is ignored in matching) are read on screen (OCR of one clip). */
  | { kind: 'text'; words: string[] }
  /** A COCO label is on screen now and was not in the clip before. */
  | { kind: 'object_appears'; label: string }
  /** A COCO label was on screen in the clip before and is not now. */
  | { kind: 'object_leaves'; label: string }
  /**
   * The count of a COCO label differs from the clip before (both seen; absent counts 0).
   * `direction` keeps only rises ("someone else arrives") or falls; absent: any change.
   */
  | { kind: 'object_count'; label: string; direction?: 'more' | 'fewer' }
  /** Someone says these words (lower case, in order, in one utterance). */
  | { kind: 'phrase'; words: string[] }
  /** A sound event with this label (SOUND_LABELS or an AudioSet name) is heard. */
  | { kind: 'sound'; label: string }
  /** The scene on camera changes (a new clip starts with a scene cut). */
  | { kind: 'scene_change' }
  /** Anything else: a language model answers `question` yes/no from a clip's facts and keyframe. */
  | { kind: 'judged'; question: string };

export type WatchMode = 'once' | 'every';

/** What a client (or a spoken request) asks for. */
export interface WatchSpec {
  /** The condition in the person's words: "the gate number is on the screen". */
  condition: string;
  rule: WatchRule;
  /** `once` ends after firing; `every` fires again after `cooldownMs`. */
  mode: WatchMode;
  /** Least time between two firings of an `every` watch, ms. */
  cooldownMs: number;
  /** Wall-clock ms (epoch) after which the watch ends unfired; absent: never. */
  expiresAt?: number;
}

/** A watch as stored with its user's memory. */
export interface Watch extends WatchSpec {
  id: string;
  /** Whose watch it is: the memory id (user) of the session that created it. */
  memoryId: string;
  /** Wall-clock ms (epoch) of creation. */
  createdAt: number;
  firedCount: number;
  /** Wall-clock ms (epoch) of the last firing. */
  lastFiredAt?: number;
}

/** Something new the session saw or heard, in media time; watches are checked on each. */
export type Observation =
  | {
      kind: 'clip';
      startMs: number;
      endMs: number;
      /** Text read on screen, lines joined with newlines. */
      ocrText: string;
      objects: { label: string; count: number }[];
      scene?: ClipScene;
      /** The clip began with a scene cut (not the first clip, not a time-capped continuation). */
      sceneChange: boolean;
      /** The keyframe as JPEG, for a judge that looks. */
      keyframeJpeg?: () => Promise<Uint8Array>;
    }
  | { kind: 'utterance'; role: 'user' | 'assistant'; text: string; startMs: number; endMs: number }
  | { kind: 'sound'; event: SoundEvent };

/** Why a watch fired. */
export interface WatchEvidence {
  /** Media ms of the evidence (a clip's start, an utterance's start, a sound's start). */
  mediaMs: number;
  kind: Observation['kind'];
  /** The evidence in words, for the client and the spoken answer: "the screen showed 'GATE B17'". */
  text: string;
}

/** A language model's yes/no on a condition the rules cannot read. */
export interface WatchJudge {
  judge(question: string, facts: string, keyframeJpeg: Uint8Array | undefined, signal: AbortSignal): Promise<boolean>;
}
