// Builds the embeddable widget into web/out/widget: the loader and its lazily loaded chunks
// under a versioned path (v1/), an unversioned loader that re-exports it, Subresource
// Integrity hashes (v1/integrity.json), and a size check that fails the build over budget.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { build } from 'esbuild';

export const WIDGET_VERSION = 'v1';
/** Gzipped budgets (issue: loader ≤ 20 KB, everything after the first click ≤ 150 KB). */
export const LOADER_BUDGET = 20 * 1024;
export const TOTAL_BUDGET = 150 * 1024;

const gz = (file) => zlib.gzipSync(fs.readFileSync(file), { level: 9 }).length;

function filesUnder(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? filesUnder(path.join(dir, d.name)) : [path.join(dir, d.name)]));
}

/** Returns the sizes; throws when a budget is passed (the message says which and by how much). */
export async function buildWidget(outDir) {
  const widgetDir = path.join(outDir, 'widget');
  const versionDir = path.join(widgetDir, WIDGET_VERSION);
  fs.rmSync(widgetDir, { recursive: true, force: true });
  const result = await build({
    metafile: true,
    entryPoints: { omnilive: path.join(import.meta.dirname, 'omnilive.ts'), embed: path.join(import.meta.dirname, 'embed.ts') },
    bundle: true,
    splitting: true,
    format: 'esm',
    minify: true,
    target: 'es2022',
    outdir: versionDir,
    chunkNames: 'chunks/[name]-[hash]',
    legalComments: 'none',
    logLevel: 'warning',
  });
  fs.writeFileSync(path.join(widgetDir, 'omnilive.js'), `export * from './${WIDGET_VERSION}/omnilive.js';\n`);
  for (const page of ['demo.html', 'demo.css', 'embed.css']) fs.copyFileSync(path.join(import.meta.dirname, page), path.join(widgetDir, page));
  const files = filesUnder(versionDir).filter((f) => f.endsWith('.js'));
  const integrity = Object.fromEntries(files.map((f) => [path.relative(versionDir, f), `sha384-${crypto.createHash('sha384').update(fs.readFileSync(f)).digest('base64')}`]));
  fs.writeFileSync(path.join(versionDir, 'integrity.json'), `${JSON.stringify(integrity, null, 2)}\n`);
  // What a page loads before the first click: the loader and the chunks it imports statically.
  const outputs = result.metafile.outputs;
  const key = (f) => path.relative(process.cwd(), f).split(path.sep).join('/');
  const staticClosure = (file, seen = new Set()) => {
    if (seen.has(file)) return seen;
    seen.add(file);
    for (const i of outputs[file]?.imports ?? []) if (i.kind === 'import-statement') staticClosure(i.path, seen);
    return seen;
  };
  const loader = [...staticClosure(key(path.join(versionDir, 'omnilive.js')))].reduce((n, f) => n + gz(f), 0);
  const total = files.reduce((n, f) => n + gz(f), 0);
  const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
  if (loader > LOADER_BUDGET) throw new Error(`the widget loader is ${kb(loader)} gzipped, over its ${kb(LOADER_BUDGET)} budget`);
  if (total > TOTAL_BUDGET) throw new Error(`the whole widget is ${kb(total)} gzipped, over its ${kb(TOTAL_BUDGET)} budget`);
  return { loader, total, files: files.length };
}
