import type { ClipRecord, MemoryHit, UtteranceRecord } from '../../memory/index.ts';

/** Memory as clients see it (omnilive.memory.results, the memory HTTP API): snake_case, JPEGs in base64. */
function jpeg(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

export function memoryHitToWire(h: MemoryHit): Record<string, unknown> {
  return {
    kind: h.kind,
    id: h.id,
    start_ms: h.startMs,
    end_ms: h.endMs,
    wall_start_ms: h.wallStartMs,
    score: h.score,
    matched_by: h.matchedBy,
    text: h.text,
    ...(h.clip ? { thumbnail_jpeg: jpeg(h.clip.thumbnail), ocr_text: h.clip.ocrText, objects: h.clip.objects, scene: h.clip.scene ?? null } : {}),
    ...(h.utterance ? { role: h.utterance.role } : {}),
  };
}

export function clipToWire(c: ClipRecord): Record<string, unknown> {
  return {
    kind: 'clip',
    id: c.id,
    session_id: c.sessionId,
    start_ms: c.startMs,
    end_ms: c.endMs,
    wall_start_ms: c.wallStartMs,
    frame_count: c.frameCount,
    thumbnail_jpeg: jpeg(c.thumbnail),
    ocr_text: c.ocrText,
    objects: c.objects,
    scene: c.scene ?? null,
    transcript: c.transcript,
  };
}

export function utteranceToWire(u: UtteranceRecord): Record<string, unknown> {
  return { kind: 'utterance', id: u.id, session_id: u.sessionId, start_ms: u.startMs, end_ms: u.endMs, wall_start_ms: u.wallStartMs, role: u.role, text: u.text };
}
