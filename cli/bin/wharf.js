#!/usr/bin/env node
// `wharf`: starts the bundled CLI (dist/wharf.js: cli/src and its dependencies in one file,
// built by `npm run build`, packed by `make cli-pack`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const bundle = new URL('../dist/wharf.js', import.meta.url);
if (!existsSync(fileURLToPath(bundle))) {
  process.stderr.write('wharf: the CLI is not built yet: run `npm run build` (or `make cli-pack`) in the Wharf repository\n');
  process.exit(1);
}
await import(bundle.href);
