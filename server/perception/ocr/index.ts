export { PpOcrEngine, defaultPpOcrModelPaths } from './pp-ocr.ts';
export type { PpOcrOptions } from './pp-ocr.ts';
