#!/usr/bin/env node
/**
 * Builds the inspector page (src/emulator/ui/page) into dist/ui: one minified ES module (Preact + the views,
 * bundled by esbuild), its stylesheet and index.html. No network, no CDN. `npm run build` and `prepare` run it
 * after tsc; vitest's global setup runs it before the suite.
 */
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const page = join(root, 'src', 'emulator', 'ui', 'page');
const out = join(root, 'dist', 'ui');

mkdirSync(join(out, 'assets'), { recursive: true });
await build({
  entryPoints: [{ in: join(page, 'main.tsx'), out: 'app' }, { in: join(page, 'style.css'), out: 'app' }],
  outdir: join(out, 'assets'),
  entryNames: '[name]',
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['es2022'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  legalComments: 'none',
  logLevel: 'warning',
});
copyFileSync(join(page, 'index.html'), join(out, 'index.html'));
