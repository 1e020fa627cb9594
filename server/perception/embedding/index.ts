export {
  OnnxImageEmbedder,
  CLIP_PREPROCESSING,
  SIGLIP_PREPROCESSING,
  cudaAvailable,
  defaultModelsDir,
  findEmbeddingModel,
} from './onnx-embedder.ts';
export type { EmbeddingModelConfig, OnnxEmbedderOptions, Preprocessing } from './onnx-embedder.ts';
