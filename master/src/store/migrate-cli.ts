#!/usr/bin/env node
// `wharf-migrate --from <sqlite file|mongodb url> --to <sqlite file|mongodb url>`: copies every
// record of a master's store into another (see migrate.ts), then prints what it copied per
// record kind. Also `make migrate FROM=… TO=…` and `npm run migrate -w @wharf/master -- …`.
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { MongoStore } from './mongo-store.js';
import { formatReport, migrateStore } from './migrate.js';
import { redactMongoUrl } from './open-store.js';
import { SqliteStore } from './sqlite-store.js';
import type { Store } from './store.js';

const HELP = `wharf-migrate — copy a Wharf master's records from one store into another

Usage: wharf-migrate --from SOURCE --to TARGET [--from-db NAME] [--to-db NAME]

  SOURCE, TARGET   a SQLite file (the master's <data-dir>/wharf.db) or a MongoDB URL
                   (mongodb://… or mongodb+srv://…)
  --from-db NAME   MongoDB database of the source (WHARF_MONGO_DB, else wharf)
  --to-db NAME     MongoDB database of the target (WHARF_MONGO_DB, else wharf)

Copies users (with password hashes), workers, tasks, attempts, task events, output-file
metadata, DAG runs and API tokens (their hashes). Safe to run again: records already in the
target are matched by id and left alone when equal. Stop the master first. Log and output-file bytes stay in the data dir
(<data-dir>/logs, <data-dir>/files): copy that folder yourself when the master moves.
A SQLite target file is created when missing; the source file must exist.
Exit status: 0 all copied, 1 some records not copied (listed) or a store failed, 2 bad usage.
`;

class UsageError extends Error {}

function parseArgs(argv: readonly string[]): { from: string; to: string; fromDb: string; toDb: string } | 'help' {
  const values: Record<string, string> = {};
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') return 'help';
    const [flag, inline] = arg.split(/=(.*)/s, 2) as [string, string | undefined];
    if (!['--from', '--to', '--from-db', '--to-db'].includes(flag)) throw new UsageError(`unknown argument "${arg}"`);
    const value = inline ?? argv[(i += 1)];
    if (value === undefined || value === '') throw new UsageError(`${flag} needs a value`);
    values[flag.slice(2)] = value;
  }
  const defaultDb = process.env.WHARF_MONGO_DB || 'wharf';
  if (!values.from || !values.to) throw new UsageError('both --from and --to are required');
  return { from: values.from, to: values.to, fromDb: values['from-db'] ?? defaultDb, toDb: values['to-db'] ?? defaultDb };
}

const isMongo = (location: string) => /^mongodb(\+srv)?:\/\//i.test(location);

/** A file path as the person meant it: npm runs workspace scripts in master/, INIT_CWD is where they typed. */
const filePath = (location: string) => resolve(process.env.INIT_CWD ?? process.cwd(), location);

function describe(location: string, db: string): string {
  return isMongo(location) ? `MongoDB ${redactMongoUrl(location)} (database "${db}")` : `SQLite file ${filePath(location)}`;
}

async function open(location: string, db: string, role: 'source' | 'target'): Promise<Store> {
  if (isMongo(location)) {
    try {
      return await MongoStore.connect(location, db, { startTimeoutMs: 5000 });
    } catch (error: unknown) {
      throw new Error(`cannot use the ${role}, ${describe(location, db)}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  const path = filePath(location);
  if (role === 'source' && !(existsSync(path) && statSync(path).isFile())) {
    throw new UsageError(`the source ${path} is not a file (expected a master's wharf.db)`);
  }
  return new SqliteStore(path);
}

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (error: unknown) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`wharf-migrate: ${error.message}\n\n${HELP}`);
    return 2;
  }
  if (args === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  const same = isMongo(args.from) ? args.from === args.to && args.fromDb === args.toDb : filePath(args.from) === filePath(args.to);
  if (same) {
    console.error('wharf-migrate: --from and --to name the same store');
    return 2;
  }
  console.log(`Copying from ${describe(args.from, args.fromDb)}\n          to ${describe(args.to, args.toDb)}`);
  let source: Store | undefined;
  let target: Store | undefined;
  try {
    source = await open(args.from, args.fromDb, 'source');
    target = await open(args.to, args.toDb, 'target');
    const report = await migrateStore(source, target, (line) => console.error(`  … ${line}`));
    console.log(formatReport(report));
    const skipped = report.problems.length;
    console.log(skipped === 0 ? 'Done: every record is in the target.' : `Done, but ${skipped} record group(s) were not copied (above).`);
    return skipped === 0 ? 0 : 1;
  } catch (error: unknown) {
    console.error(`wharf-migrate: ${error instanceof Error ? error.message : String(error)}`);
    return error instanceof UsageError ? 2 : 1;
  } finally {
    await source?.close();
    await target?.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error('wharf-migrate: failed:', error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
