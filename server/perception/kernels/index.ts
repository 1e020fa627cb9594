/**
 * Perception kernels: colour conversion, resize, CHW normalization, scene descriptors,
 * perceptual hashes, resampling and Whisper's log-mel spectrogram.
 *
 * The named exports are the native implementations (native/index.ts: C++ on the CPU, CUDA
 * for the image kernels when a GPU is there), which validate their arguments and need the
 * addon built (npm install). `reference` holds the plain TypeScript versions of the same
 * kernels (reference.ts), with the same signatures.
 */
import * as native from '../../../native/index.ts';
import type { PerceptionKernels } from '../../../native/index.ts';
import * as reference from './reference.ts';

export {
  i420ToRgb,
  i420ToRgbAsync,
  nv12ToRgb,
  nv12ToRgbAsync,
  rgbaToRgb,
  rgbaToRgbAsync,
  resizeRgb,
  resizeRgbAsync,
  normalizeChw,
  normalizeChwAsync,
  sceneDescriptor,
  sceneDescriptorAsync,
  sceneSimilarity,
  perceptualHash,
  perceptualHashAsync,
  hammingDistance,
  resamplePcm,
  resamplePcmAsync,
  logMelSpectrogram,
  logMelSpectrogramAsync,
  whisperMelFilters,
  yuv420Size,
  imageBackend,
  cudaAvailable,
  setImageBackend,
  CLIP_MEAN,
  CLIP_STD,
  SIGLIP_MEAN,
  SIGLIP_STD,
  CLIP_NORMALIZATION,
  SIGLIP_NORMALIZATION,
  SCENE_DESCRIPTOR_LENGTH,
  SCENE_HISTOGRAM_LENGTH,
  SCENE_LAYOUT_LENGTH,
  SCENE_HISTOGRAM_WEIGHT,
  SCENE_LAYOUT_WEIGHT,
  WHISPER_SAMPLE_RATE,
  WHISPER_N_FFT,
  WHISPER_HOP_LENGTH,
} from '../../../native/index.ts';
export type {
  RgbImage,
  ResizeMode,
  NormalizeParams,
  PcmSamples,
  LogMelOptions,
  LogMelSpectrogram,
  ImageBackendInfo,
  ImageBackendPreference,
  PerceptionKernels,
} from '../../../native/index.ts';

export { reference };

/** The native kernels as one object, the same shape as reference.referenceKernels. */
const nativeKernels: PerceptionKernels = native;
export default nativeKernels;

// Both implementations offer the same API.
reference satisfies PerceptionKernels;
