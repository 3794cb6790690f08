// Bundles the worker (src/cli.ts and every dependency) into one ESM file,
// dist/wharf-worker.mjs, that runs with nothing beside it but Node >= 20.19: what a master
// serves at GET /join/wharf-worker.mjs for the one-line join. Also copies the join script's
// template (join/join.sh) to dist/join.sh, which the master fills in and serves at GET /join.sh.
// Run by `npm run build` after tsc.
//
// What the bundle leaves out, on purpose:
// - native addons. dockerode → docker-modem → ssh2 (used only for ssh:// Docker hosts) loads two
//   optional ones inside try/catch: cpu-features (a CPU probe that orders ssh ciphers) and its
//   own sshcrypto.node (faster ciphers). Both stay external: the require fails, ssh2 uses Node's
//   crypto. ws's optional bufferutil / utf-8-validate likewise (plain JS is used).
// - files read at run time: wharf.proto is embedded as protobufjs JSON
//   (__WHARF_EMBEDDED_PROTO__, see proto/src/index.ts), the version as __WHARF_BUNDLED_VERSION__.
// Logging needs nothing extra: the worker's pino-pretty runs in-process (no transport thread).
import { chmodSync, copyFileSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import protobuf from 'protobufjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const outfile = join(root, 'dist/wharf-worker.mjs');
// keepCase false, as LOADER_OPTIONS in proto/src/index.ts: field names become camelCase here
const protoJson = new protobuf.Root().loadSync(join(root, '../proto/wharf.proto'), { keepCase: false }).toJSON();

await build({
  entryPoints: [join(root, 'src/cli.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['cpu-features', '*.node', 'bufferutil', 'utf-8-validate'],
  define: {
    __WHARF_EMBEDDED_PROTO__: JSON.stringify(protoJson),
    __WHARF_BUNDLED_VERSION__: JSON.stringify(version),
  },
  // CommonJS dependencies call require() and read __dirname (ssh2 does, for a Windows-only
  // helper path): an ESM bundle gets them from its own URL
  banner: {
    js: [
      `// wharf-worker ${version}: the Wharf worker and its dependencies in one file (source: worker/src in the Wharf repository)`,
      "import { createRequire as __wharfCreateRequire } from 'node:module';",
      "import { fileURLToPath as __wharfFileURLToPath } from 'node:url';",
      "import { dirname as __wharfDirname } from 'node:path';",
      'const require = __wharfCreateRequire(import.meta.url);',
      'const __filename = __wharfFileURLToPath(import.meta.url);',
      'const __dirname = __wharfDirname(__filename);',
    ].join('\n'),
  },
  // names stay (readable stack traces); whitespace and syntax shrink it to about half
  minifyWhitespace: true,
  minifySyntax: true,
  // the dependencies' licence notices travel with the bundle
  legalComments: 'eof',
  logLevel: 'warning',
});
chmodSync(outfile, 0o755);
copyFileSync(join(root, 'join/join.sh'), join(root, 'dist/join.sh'));
