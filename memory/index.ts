export { TranscriptLog, tokenize, contentWords } from './transcript-log.ts';
export type { Utterance, UtteranceHit } from './transcript-log.ts';
export { MemoryStore, MemoryStoreClosedError, defaultMemoryStoreOptions, RRF_K, RECENT_FALLBACK } from './memory-store.ts';
export { clipEvidenceText } from './rows.ts';
export type {
  MemoryStoreOptions,
  MemorySearchQuery,
  RetentionOptions,
  ListOptions,
  ForgetSelector,
  DeletedCounts,
  ExportedRecord,
  MemoryStoreStats,
  MemoryStoreEvents,
} from './memory-store.ts';
export { compressClipVectors, mergeText, l2Normalize, cosineSimilarity } from './compression.ts';
export type { CompressedClipVectors } from './compression.ts';
export { parseTimeExpression } from './time-expressions.ts';
export type { TimeRange } from './time-expressions.ts';
export { summarizeClips, DEFAULT_EPISODE_MINUTES } from './episodes.ts';
export { SCHEMA_VERSION, MIGRATIONS } from './schema.ts';
export type { Migration } from './schema.ts';
export type { ClipRecord, UtteranceRecord, EpisodeRecord, MemoryHit, MemoryQuery } from './types.ts';
