// Shared by the tfjs engine children (CenterNet, people): Node's tfjs cannot fetch file:// URLs.
import fs from 'node:fs';
import path from 'node:path';

/** A tfjs IO handler that reads model.json and its weight shards from disk (no fetch). */
export function fileHandler(jsonPath) {
  return {
    async load() {
      const json = JSON.parse(fs.readFileSync(jsonPath, 'utf8'));
      const dir = path.dirname(jsonPath);
      const shards = json.weightsManifest.flatMap((group) => group.paths.map((p) => fs.readFileSync(path.join(dir, p))));
      const weights = Buffer.concat(shards);
      return {
        modelTopology: json.modelTopology,
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy,
        // Human reads the hand detector's input names from the signature.
        signature: json.signature,
        userDefinedMetadata: json.userDefinedMetadata,
        weightSpecs: json.weightsManifest.flatMap((group) => group.weights),
        weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
      };
    },
  };
}
