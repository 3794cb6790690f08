// Bundles the CLI (src/cli.ts and everything it imports: ws, yaml, @wharf/proto's console
// formatting) into one ESM file, dist/wharf.js, so the packed package (`make cli-pack`) has no
// dependencies to fetch. Run by `npm run build` after tsc.
import { chmodSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const outfile = join(root, 'dist/wharf.js');

await build({
  entryPoints: [join(root, 'src/cli.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // ws requires these optional native helpers inside try/catch; without them it uses plain JS
  external: ['bufferutil', 'utf-8-validate'],
  // CommonJS dependencies (ws) call require(); an ESM bundle gets one from createRequire
  banner: {
    js: [
      `// wharf ${version}: the Wharf command-line client, bundled (source: cli/src in the Wharf repository)`,
      "import { createRequire as __wharfCreateRequire } from 'node:module';",
      'const require = __wharfCreateRequire(import.meta.url);',
    ].join('\n'),
  },
  legalComments: 'eof',
  logLevel: 'warning',
});
chmodSync(outfile, 0o755);
