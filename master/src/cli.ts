#!/usr/bin/env node
// Entry point: `wharf-master [flags]` (see `--help`). Reads config from env and flags, starts
// the master, prints how to reach it and how to join workers, and stops cleanly on a signal.
import { ConfigError, loadMasterConfig } from './config/master-config.js';
import { startMaster } from './main.js';
import { join } from 'node:path';
import { colourWanted } from './repl/format.js';
import { createReplLogger, ReplConsole } from './repl/repl-console.js';
import { startRepl } from './repl/repl.js';

const HELP = `wharf-master — the Wharf scheduler's master

Usage: wharf-master [--flag value ...]   (each flag also reads from its WHARF_* variable)

  --data-dir DIR            WHARF_DATA_DIR            state, logs and files (~/.wharf/master)
  --host ADDR               WHARF_HOST                listen address for HTTP and gRPC (127.0.0.1)
  --http-port N             WHARF_HTTP_PORT           REST API port (8080)
  --grpc-port N             WHARF_GRPC_PORT           worker port (50051)
  --public-grpc-address A   WHARF_PUBLIC_GRPC_ADDRESS address workers should dial, shown in the join line
  --jwt-secret S            WHARF_JWT_SECRET          (generated into the data dir when absent)
  --jwt-ttl D               WHARF_JWT_TTL             token lifetime (12h)
  --join-token T            WHARF_JOIN_TOKEN          the start join token, <id>.<secret> (generated into the data
                                                      dir when absent); admins create more: POST /api/join-tokens
  --join-rate-limit N       WHARF_JOIN_RATE_LIMIT     joins (Register without a certificate) per minute per address (10)
  --join-rate-burst N       WHARF_JOIN_RATE_BURST     ... of which at once (20)
  --tls-san NAMES           WHARF_TLS_SAN             extra names/addresses for the generated server certificate (a,b)
  --tls-ca-cert F / --tls-ca-key F   WHARF_TLS_CA_CERT / _KEY   your CA for worker certificates (else generated)
  --tls-cert F / --tls-key F         WHARF_TLS_CERT / _KEY      your server certificate chain (leaf..root) and key
  --worker-cert-ttl D       WHARF_WORKER_CERT_TTL     worker certificates last this long (365d; renewed at 2/3)
  --tls [on|off|auto]       WHARF_TLS                 HTTPS for REST and the dashboard (auto: unless loopback-only)
  --http-tls-cert F / --http-tls-key F   WHARF_HTTP_TLS_CERT / _KEY   another certificate for HTTPS
  --admin-email E           WHARF_ADMIN_EMAIL         (admin@wharf.local)
  --admin-password P        WHARF_ADMIN_PASSWORD      (generated when absent)
  --advertise-address H     WHARF_ADVERTISE_ADDRESS   the host others reach this master at (several masters: the
                                                      leader's gRPC and HTTP addresses; default the gRPC host)
  --lease-ttl D             WHARF_LEASE_TTL           several masters on one store: a leader that stops renewing
                                                      is replaced after this (5s; failover within ttl + renew)
  --lease-renew D           WHARF_LEASE_RENEW         how often the leader renews and standbys try (1s)
  --heartbeat-interval D    WHARF_HEARTBEAT_INTERVAL  (5s)
  --heartbeat-ttl D         WHARF_HEARTBEAT_TTL       worker lost after this silence (15s)
  --reconnect-grace D       WHARF_RECONNECT_GRACE     after a master restart (30s)
  --max-stop-after D        WHARF_MAX_STOP_AFTER      longest fencing bound (a worker's --stop-after + its stop grace)
                                                      this master holds a lost worker's tasks for (10m)
  --retry-backoff D         WHARF_RETRY_BACKOFF       first retry delay (1s), doubling
  --retry-backoff-max D     WHARF_RETRY_BACKOFF_MAX   (5m)
  --cancel-grace D          WHARF_CANCEL_GRACE        SIGTERM to SIGKILL on cancel (10s)
  --reserve-after D         WHARF_RESERVE_AFTER       a task waiting this long for room reserves a worker (5m; 0 = never)
  --max-output-bytes SIZE   WHARF_MAX_OUTPUT_BYTES    per attempt, all upload streams together; a task's disk request caps it lower (10Gi)
  --max-log-bytes SIZE      WHARF_MAX_LOG_BYTES       per attempt (64Mi)
  --allow-user-exec         WHARF_ALLOW_USER_EXEC     let non-admins submit exec tasks (false)
  --task-min-cpu N          WHARF_TASK_MIN_CPU        least cores a non-admin task may ask (10m; above 0)
  --task-default-cpu N      WHARF_TASK_DEFAULT_CPU    cores of a task that names none (0.5)
  --task-max-cpu N          WHARF_TASK_MAX_CPU        most cores a non-admin task may ask (unset: no maximum)
  --task-min-memory SIZE    WHARF_TASK_MIN_MEMORY     (6Mi, at least 6Mi)
  --task-default-memory SIZE WHARF_TASK_DEFAULT_MEMORY (256Mi)
  --task-max-memory SIZE    WHARF_TASK_MAX_MEMORY     (unset: no maximum)
  --task-min-disk SIZE      WHARF_TASK_MIN_DISK       writable space; 0 = not watched (0)
  --task-default-disk SIZE  WHARF_TASK_DEFAULT_DISK   (0)
  --task-max-disk SIZE      WHARF_TASK_MAX_DISK       (unset: no maximum)
  --registration MODE       WHARF_REGISTRATION        who may register: open | invite | closed (invite when the
                                                      API listens beyond loopback, else open)
  --session-max-age D       WHARF_SESSION_MAX_AGE     a login may be renewed (POST /api/auth/refresh) this long (7d)
  --auth-rate-limit N       WHARF_AUTH_RATE_LIMIT     login/register/invite requests per minute per address (60)
  --auth-global-rate-limit N WHARF_AUTH_GLOBAL_RATE_LIMIT  password hashings per minute, master-wide, for
                                                      unknown emails and registrations (300)
  --audit-retention D       WHARF_AUDIT_RETENTION     audit entries are kept this long (90d, at least 1d)
  --log-level L             WHARF_LOG_LEVEL           trace|debug|info|warn|error (info); JSON lines, readable on a terminal
  --ws-ping-interval D      WHARF_WS_PING_INTERVAL    WebSocket ping period; a client missing a pong is ended (30s)
  --ws-max-buffer SIZE      WHARF_WS_MAX_BUFFER       unsent bytes a WebSocket client may have before "lagged" (4Mi)
  --telemetry-history D     WHARF_TELEMETRY_HISTORY   per-worker usage history kept for charts (15m, at least 15m)
  --repl / --no-repl                                  the interactive console on stdin (on when stdin is a
                                                      terminal; --repl also reads piped stdin; type help)
  --mongo-url URL           WHARF_MONGO_URL           keep state in MongoDB instead of <data-dir>/wharf.db;
                                                      the master exits if it cannot reach it (no fallback)
  --mongo-db NAME           WHARF_MONGO_DB            MongoDB database name (wharf)
  --mongo-start-timeout D   WHARF_MONGO_START_TIMEOUT how long the start waits for MongoDB (5s)
`;

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(HELP);
    return;
  }
  let config;
  try {
    config = loadMasterConfig(argv, process.env);
  } catch (error: unknown) {
    if (error instanceof ConfigError) {
      console.error(`wharf-master: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
  // The REPL: on when stdin is a terminal (unless --no-repl), or with --repl (piped stdin too).
  // While it runs, log lines go above its prompt (terminal) or to stderr (piped).
  const replOn = !argv.includes('--no-repl') && (argv.includes('--repl') || Boolean(process.stdin.isTTY));
  const replTerminal = Boolean(process.stdin.isTTY && process.stdout.isTTY);
  const replConsole = replOn ? new ReplConsole(process.stdout) : undefined;
  const replLogger = replConsole
    ? createReplLogger({ level: config.logLevel, console: replConsole, terminal: replTerminal, colour: colourWanted(process.stdout, process.env) })
    : undefined;
  const master = await startMaster(config, replLogger ? { logger: replLogger } : {});
  // secrets are shown only when they were made on this start: a restart does not print them again
  const generated = new Set(master.generatedSecrets);
  const passwordNote = config.admin.password ? '(password from WHARF_ADMIN_PASSWORD)' : `(password in ${join(config.dataDir, 'admin-password')})`;
  const lines = [
    '',
    `  Wharf master is up`,
    `  API and dashboard:  ${master.httpUrl}`,
    `  Worker port (gRPC): ${master.grpcAddress} (TLS)`,
    `  CA hash:            ${master.caHash}`,
    generated.has('admin-password')
      ? `  Admin login:        ${master.admin.email} / ${master.admin.password}`
      : `  Admin login:        ${master.admin.email} ${passwordNote}`,
    `  Registration:       ${registrationLine(master.registration, config.registration !== undefined)}`,
    ...(generated.has('join-token') ? [`  Join token:         ${master.joinToken}`] : []),
    `  Join a worker:      ${master.joinCommand}`,
    master.oneLineJoinCommand
      ? `  Or with no clone:   ${master.oneLineJoinCommand}`
      : `  Or with no clone:   unavailable: ${master.oneLineJoinWarning ?? 'no worker bundle'}`,
    ...(master.oneLineJoinCommand && master.oneLineJoinWarning ? [`                      WARNING: ${master.oneLineJoinWarning}`] : []),
    '',
  ];
  if (replOn) lines.push(`  Type help for the console's commands; exit stops the master.`, '');
  console.log(lines.join('\n'));
  let closeRepl: (() => void) | undefined;
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    closeRepl?.();
    master.logger.info({ signal }, 'stopping');
    master.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  // several masters: a leader that lost its lease has stopped its systems; it exits (75,
  // EX_TEMPFAIL) so that runMaster.sh's supervisor (systemd, a container restart policy)
  // starts it again as a fresh standby
  master.onSteppedDown((reason) => {
    console.error(`This master no longer leads (${reason}); exiting with code 75 to be restarted as a standby.`);
    stopping = true;
    master.stop().then(
      () => process.exit(75),
      () => process.exit(75),
    );
  });
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  if (replOn) {
    const repl = await startRepl({
      services: master,
      adminEmail: master.admin.email,
      input: process.stdin,
      output: process.stdout,
      terminal: replTerminal,
      historyFile: join(config.dataDir, 'repl_history'),
      console: replConsole,
      logger: master.logger.child({ component: 'repl' }),
      onExit: () => shutdown('exit'),
    });
    closeRepl = () => repl.close();
  }
}

/** The banner's registration line: the mode, and where it comes from. */
function registrationLine(mode: 'open' | 'invite' | 'closed', configured: boolean): string {
  const why = configured ? 'WHARF_REGISTRATION' : mode === 'invite' ? 'the default beyond loopback; WHARF_REGISTRATION changes it' : 'the default on loopback; WHARF_REGISTRATION changes it';
  const what = mode === 'open' ? 'open (anyone who reaches the API may register)' : mode === 'invite' ? 'by invite only (an admin runs `invite <email>`)' : 'closed (nobody registers)';
  return `${what} (${why})`;
}

main().catch((error: unknown) => {
  console.error('wharf-master: failed to start:', error instanceof Error ? error.message : error);
  process.exit(1);
});
