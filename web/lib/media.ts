// Camera and microphone: getUserMedia with the browser's voice processing, and what each failure means.

export type MediaProblemKind = 'permission' | 'no-microphone' | 'busy' | 'insecure' | 'other';

export class MediaProblem extends Error {
  constructor(
    readonly kind: MediaProblemKind,
    message: string,
  ) {
    super(message);
    this.name = 'MediaProblem';
  }
}

export type OpenedMedia = {
  stream: MediaStream;
  /** Why there is no video track, when there is none. */
  cameraNotice?: string;
};

const AUDIO: MediaTrackConstraints = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };
const VIDEO: MediaTrackConstraints = { width: 640, height: 360, frameRate: 15 };

function describe(error: unknown): MediaProblem {
  const name = (error as DOMException)?.name;
  switch (name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return new MediaProblem(
        'permission',
        'Camera and microphone permission was denied. Allow access for this site (the icon in the address bar), then press Start again. You can still type questions.',
      );
    case 'NotFoundError':
    case 'OverconstrainedError':
      return new MediaProblem('no-microphone', 'No microphone was found. Connect one, then press Start again. You can still type questions.');
    case 'NotReadableError':
    case 'AbortError':
      return new MediaProblem('busy', 'The microphone could not be opened: another application may be using it.');
    default:
      return new MediaProblem('other', `The microphone could not be started: ${(error as Error)?.message ?? error}`);
  }
}

/** Microphone and camera; without a usable camera, the microphone alone and a notice. */
/** The microphone, and the camera unless `camera` is false (the widget asks for it only when allowed to see). */
export async function openCameraAndMic(camera = true): Promise<OpenedMedia> {
  if (!navigator.mediaDevices?.getUserMedia) {
    throw new MediaProblem('insecure', 'The camera and microphone need a secure page: open this app over https:// (or on http://localhost).');
  }
  if (!camera) {
    try {
      return { stream: await navigator.mediaDevices.getUserMedia({ audio: AUDIO }) };
    } catch (error) {
      throw describe(error);
    }
  }
  try {
    return { stream: await navigator.mediaDevices.getUserMedia({ audio: AUDIO, video: VIDEO }) };
  } catch (error) {
    const name = (error as DOMException)?.name;
    // Only a missing or busy device is worth a second, audio-only try; a denial stays a denial.
    if (name !== 'NotFoundError' && name !== 'OverconstrainedError' && name !== 'NotReadableError') throw describe(error);
  }
  let stream: MediaStream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: AUDIO });
  } catch (error) {
    throw describe(error);
  }
  return { stream, cameraNotice: 'No camera available — continuing with audio only.' };
}

export function stopStream(stream: MediaStream | null | undefined): void {
  for (const track of stream?.getTracks() ?? []) track.stop();
}
