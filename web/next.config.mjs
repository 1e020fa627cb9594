// Next.js builds the web app as static files (web/out) that OmniLiveServer serves on the API's port.
import path from 'node:path';

const repoRoot = path.resolve(import.meta.dirname, '..');

/** @type {import('next').NextConfig} */
const config = {
  output: 'export',
  reactStrictMode: true,
  poweredByHeader: false,
  devIndicators: false,
  images: { unoptimized: true },
  // node_modules lives at the repository root, one level up.
  turbopack: { root: repoRoot },
  outputFileTracingRoot: repoRoot,
};

export default config;
