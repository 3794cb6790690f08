// Chooses the master's Store from its config: MongoDB when WHARF_MONGO_URL is set, else the
// embedded SQLite file in the data dir. When MongoDB was asked for and cannot be reached the
// start fails with a message naming the URL (without its password); it never falls back to
// SQLite on its own, since a master quietly writing to another store would split the state.
import { join } from 'node:path';
import type { MasterConfig } from '../config/master-config.js';
import type { Logger } from '../logger.js';
import type { MongoStore } from './mongo-store.js';
import { SqliteStore } from './sqlite-store.js';
import type { Store } from './store.js';

export class StoreUnavailableError extends Error {
  override name = 'StoreUnavailableError';
}

/** The URL with its password (and any key-file password option) replaced by `***`. */
export function redactMongoUrl(url: string): string {
  const scheme = /^mongodb(\+srv)?:\/\//i.exec(url)?.[0];
  if (!scheme) return '(not a mongodb:// URL)';
  const queryStart = url.indexOf('?');
  const authorityEnd = queryStart === -1 ? url.length : queryStart;
  const at = url.lastIndexOf('@', authorityEnd);
  let redacted = url;
  if (at > scheme.length) {
    const userinfo = url.slice(scheme.length, at);
    const colon = userinfo.indexOf(':');
    const user = colon === -1 ? userinfo : userinfo.slice(0, colon);
    redacted = `${scheme}${user}${colon === -1 ? '' : ':***'}@${url.slice(at + 1)}`;
  }
  return redacted.replace(/([?&](?:tlsCertificateKeyFilePassword|authMechanismProperties)=)[^&]*/gi, '$1***');
}

export async function openStore(config: Pick<MasterConfig, 'dataDir' | 'mongo'>, logger: Logger): Promise<Store> {
  if (!config.mongo) {
    const path = join(config.dataDir, 'wharf.db');
    logger.info({ store: 'sqlite', path }, 'store: embedded SQLite');
    return new SqliteStore(path);
  }
  const { url, database, startTimeoutMs } = config.mongo;
  const shown = redactMongoUrl(url);
  let store: MongoStore;
  try {
    // loaded only when asked for: the driver takes a noticeable part of a master's start
    const { MongoStore } = await import('./mongo-store.js');
    store = await MongoStore.connect(url, database, { startTimeoutMs });
  } catch (error: unknown) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new StoreUnavailableError(
      `cannot use MongoDB at ${shown} (database "${database}"): ${reason}. ` +
        'Start it (database/README.md), fix WHARF_MONGO_URL, or unset WHARF_MONGO_URL to use the embedded SQLite store; ' +
        'the master does not fall back to SQLite by itself',
      { cause: error },
    );
  }
  logger.info({ store: 'mongo', url: shown, database, transactions: store.transactions }, 'store: MongoDB');
  if (!store.transactions) {
    logger.warn(
      { url: shown },
      'MongoDB is a standalone server: multi-document commits run without a transaction (see docs/OPERATIONS.md); run it as a replica set',
    );
  }
  return store;
}
