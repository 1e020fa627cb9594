import { z } from 'zod';

/**
 * Client → server events: the OpenAI Realtime GA names we support, plus `omnilive.*`
 * extensions. Declared once; the TypeScript types are derived from these schemas.
 */
const eventId = z.string().max(128).optional();

/** A user id is a memory id: short and printable. */
export const userId = z
  .string()
  .regex(/^[A-Za-z0-9][\w.@:+-]{0,127}$/, 'a user id is 1–128 characters of letters, digits and _.@:+- (starting with a letter or digit)');

const audioFormat = z
  .object({
    type: z.literal('audio/pcm'),
    rate: z.union([z.literal(24000), z.literal(16000)]).optional(),
  })
  .strict();

const turnDetection = z
  .object({
    type: z.literal('server_vad'),
    threshold: z.number().min(0).max(1).optional(),
    prefix_padding_ms: z.number().int().min(0).max(5000).optional(),
    silence_duration_ms: z.number().int().min(100).max(10000).optional(),
    create_response: z.boolean().optional(),
    interrupt_response: z.boolean().optional(),
    idle_timeout_ms: z.number().int().nullable().optional(),
  })
  .strict();

export const sessionPatchSchema = z
  .object({
    type: z.literal('realtime').optional(),
    model: z.string().max(200).optional(),
    instructions: z.string().max(32_000).optional(),
    output_modalities: z.array(z.enum(['text', 'audio'])).min(1).max(2).optional(),
    audio: z
      .object({
        input: z
          .object({
            format: audioFormat.optional(),
            transcription: z.object({ model: z.string().optional(), language: z.string().optional(), prompt: z.string().optional() }).nullable().optional(),
            turn_detection: turnDetection.nullable().optional(),
            noise_reduction: z.unknown().optional(),
          })
          .strict()
          .optional(),
        output: z
          .object({
            format: audioFormat.optional(),
            voice: z.string().max(64).optional(),
            speed: z.number().optional(),
          })
          .strict()
          .optional(),
      })
      .strict()
      .optional(),
    omnilive: z
      .object({
        /** 'media': audio may arrive faster than real time (files, evaluation); 'live': it may not. */
        clock: z.enum(['live', 'media']).optional(),
        /** Whose long-term memory the session keeps: for API-key connections (a secret pins its own). */
        user: userId.optional(),
        instruction_filter: z.enum(['off', 'rules', 'llm']).optional(),
        video_fps: z.number().min(0.1).max(5).optional(),
        clipper: z
          .object({
            min_frames: z.number().int().min(1).max(64).optional(),
            max_frames: z.number().int().min(1).max(64).optional(),
            cut_similarity: z.number().min(0).max(1).optional(),
          })
          .strict()
          .optional(),
      })
      .strict()
      .optional(),
  })
  .passthrough();

const inputText = z.object({ type: z.literal('input_text'), text: z.string().max(32_000) }).strict();
const outputText = z.object({ type: z.literal('output_text'), text: z.string().max(32_000) }).strict();

/**
 * WebRTC signalling (omnilive.webrtc.*): request/response, the reply carries request_id =
 * the request's event_id. The mediasoup objects inside are passed through as mediasoup-client
 * makes them; mediasoup validates them in depth.
 */
const transportId = z.string().min(1).max(64);
const dtlsParameters = z
  .object({
    role: z.enum(['auto', 'client', 'server']).optional(),
    fingerprints: z.array(z.object({ algorithm: z.string().max(32), value: z.string().max(256) }).strict()).min(1).max(8),
  })
  .strict();
const rtpParameters = z
  .object({
    mid: z.string().max(32).optional(),
    codecs: z.array(z.object({ mimeType: z.string().max(64), payloadType: z.number().int().min(0).max(127), clockRate: z.number().int().positive() }).passthrough()).min(1).max(16),
    headerExtensions: z.array(z.object({}).passthrough()).max(32).optional(),
    encodings: z.array(z.object({}).passthrough()).max(8).optional(),
    rtcp: z.object({}).passthrough().optional(),
    msid: z.string().max(256).optional(),
  })
  .strict();

const rtpCapabilities = z
  .object({
    codecs: z.array(z.object({ mimeType: z.string().max(64), kind: z.enum(['audio', 'video']), clockRate: z.number().int().positive() }).passthrough()).max(64),
    headerExtensions: z.array(z.object({}).passthrough()).max(64).optional(),
  })
  .strict();

export const webRtcEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('omnilive.webrtc.join'), event_id: eventId }).strict(),
  z.object({ type: z.literal('omnilive.webrtc.transport.create'), event_id: eventId }).strict(),
  z.object({ type: z.literal('omnilive.webrtc.transport.connect'), event_id: eventId, transport_id: transportId, dtls_parameters: dtlsParameters }).strict(),
  z
    .object({ type: z.literal('omnilive.webrtc.produce'), event_id: eventId, transport_id: transportId, kind: z.enum(['audio', 'video']), rtp_parameters: rtpParameters })
    .strict(),
  // The answer's voice as a track to receive on a (second, receive) transport.
  z.object({ type: z.literal('omnilive.webrtc.consume'), event_id: eventId, transport_id: transportId, rtp_capabilities: rtpCapabilities }).strict(),
  z.object({ type: z.literal('omnilive.webrtc.leave'), event_id: eventId }).strict(),
]);

export type WebRtcEvent = z.infer<typeof webRtcEventSchema>;

export const clientEventSchema = z.discriminatedUnion('type', [
  ...webRtcEventSchema.options,
  z.object({ type: z.literal('session.update'), event_id: eventId, session: sessionPatchSchema }).strict(),
  z.object({ type: z.literal('input_audio_buffer.append'), event_id: eventId, audio: z.string() }).strict(),
  z.object({ type: z.literal('input_audio_buffer.commit'), event_id: eventId }).strict(),
  z.object({ type: z.literal('input_audio_buffer.clear'), event_id: eventId }).strict(),
  z
    .object({
      type: z.literal('conversation.item.create'),
      event_id: eventId,
      previous_item_id: z.string().nullable().optional(),
      item: z
        .object({
          id: z.string().max(64).optional(),
          type: z.literal('message'),
          role: z.enum(['user', 'assistant', 'system']),
          content: z.array(z.union([inputText, outputText])).min(1).max(16),
        })
        .passthrough(),
    })
    .strict(),
  z
    .object({
      type: z.literal('response.create'),
      event_id: eventId,
      response: z
        .object({
          instructions: z.string().max(32_000).optional(),
          output_modalities: z.array(z.enum(['text', 'audio'])).min(1).max(2).optional(),
        })
        .passthrough()
        .optional(),
    })
    .strict(),
  z.object({ type: z.literal('response.cancel'), event_id: eventId, response_id: z.string().optional() }).strict(),
  z
    .object({
      type: z.literal('omnilive.memory.search'),
      event_id: eventId,
      query: z.string().min(1).max(2000),
      limit: z.number().int().min(1).max(50).optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal('omnilive.video_frame.append'),
      event_id: eventId,
      /** base64 JPEG (PNG and WebP work too). */
      image: z.string().min(1),
      /** Media time of the frame, ms; default: the session's current media time. */
      t: z.number().min(0).optional(),
    })
    .strict(),
]);

export type ClientEvent = z.infer<typeof clientEventSchema>;
export type SessionPatch = z.infer<typeof sessionPatchSchema>;
export const CLIENT_EVENT_TYPES = clientEventSchema.options.map((o) => o.shape.type.value);

/** A zod issue as one readable line and the offending field's dotted path. */
export function describeIssue(error: z.ZodError): { message: string; param?: string } {
  const issue = error.issues[0]!;
  const param = issue.path.length ? issue.path.join('.') : undefined;
  return { message: param ? `${param}: ${issue.message}` : issue.message, param };
}
