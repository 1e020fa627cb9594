/**
 * Long-term memory: what a memory id (a session, or several sharing one on purpose) saw and
 * heard, stored durably and searched by meaning, words and time.
 */
export interface ClipRecord {
  id: string;
  memoryId: string;
  sessionId: string;
  /** Media ms since the session started. */
  startMs: number;
  endMs: number;
  /** Wall-clock ms (epoch) when the clip started: what "earlier today" means. */
  wallStartMs: number;
  frameCount: number;
  /** Small keyframe JPEG. */
  thumbnail: Uint8Array;
  /** De-duplicated text read on screen. */
  ocrText: string;
  /** "label ×count" facts, e.g. [{ label: 'cup', count: 2 }]. */
  objects: { label: string; count: number }[];
  /** What was said while the clip was on screen. */
  transcript: string;
  soundEvents: string[];
  /** What the keyframe showed beyond text and labels: people, colours, positions, light, motion. */
  scene?: ClipScene;
  /** Up to 4 pooled frame embeddings plus one global one, when an embedding model exists. */
  frameVectors?: Float32Array[];
  globalVector?: Float32Array;
}

/** A clip's keyframe described: what the default engines can tell (stored as JSON with the clip). */
export interface ClipScene {
  /** Dominant named colours of the frame, largest share first (shares 0..1). */
  colours: { name: string; share: number }[];
  brightness?: 'dark' | 'dim' | 'bright';
  motion?: 'still' | 'moving';
  /** Objects with their COCO supercategory, and per box where it is (left/centre/right) and its colour. */
  objects: { label: string; count: number; supercategory?: string; positions?: string[]; colours?: string[] }[];
  /** People seen: where, how near, which way they face, posture, a raised hand, gestures, facial expression. */
  people: { position: string; distance: string; facing?: string; posture?: string; handRaised?: boolean; gestures: string[]; emotion?: string }[];
}

export interface UtteranceRecord {
  id: string;
  memoryId: string;
  sessionId: string;
  role: 'user' | 'assistant';
  text: string;
  startMs: number;
  endMs: number;
  wallStartMs: number;
}

export interface EpisodeRecord {
  id: string;
  memoryId: string;
  startMs: number;
  endMs: number;
  wallStartMs: number;
  wallEndMs: number;
  clipCount: number;
  /** Merged OCR text, object labels and transcript of its clips. */
  summary: string;
  centroid?: Float32Array;
}

/** One retrieved piece of evidence with where it came from. */
export interface MemoryHit {
  kind: 'clip' | 'utterance';
  id: string;
  startMs: number;
  endMs: number;
  wallStartMs: number;
  /** Fused score (reciprocal-rank fusion), higher is better. */
  score: number;
  /** Which searches found it. */
  matchedBy: ('vector' | 'text' | 'time' | 'recent')[];
  text: string;
  clip?: ClipRecord;
  utterance?: UtteranceRecord;
}

export interface MemoryQuery {
  memoryId: string;
  text: string;
  /** Question embedding in the same space as clip vectors, when a model exists. */
  vector?: Float32Array;
  /** Media ms "now" for time expressions ("two minutes ago"). */
  nowMs: number;
  /** Wall-clock ms (epoch) "now", for "earlier today". */
  nowWallMs: number;
  limit?: number;
}
