#!/usr/bin/env node
// Entry point: `wharf-master [flags]` (see `--help`). Reads config from env and flags, starts
// the master, prints how to reach it and how to join workers, and stops cleanly on a signal.
import { ConfigError, loadMasterConfig } from './config/master-config.js';
import { startMaster } from './main.js';

const HELP = `wharf-master — the Wharf scheduler's master

Usage: wharf-master [--flag value ...]   (each flag also reads from its WHARF_* variable)

  --data-dir DIR            WHARF_DATA_DIR            state, logs and files (~/.wharf/master)
  --host ADDR               WHARF_HOST                listen address for HTTP and gRPC (127.0.0.1)
  --http-port N             WHARF_HTTP_PORT           REST API port (8080)
  --grpc-port N             WHARF_GRPC_PORT           worker port (50051)
  --public-grpc-address A   WHARF_PUBLIC_GRPC_ADDRESS address workers should dial, shown in the join line
  --jwt-secret S            WHARF_JWT_SECRET          (generated into the data dir when absent)
  --jwt-ttl D               WHARF_JWT_TTL             token lifetime (12h)
  --join-token T            WHARF_JOIN_TOKEN          cluster join token (generated when absent)
  --admin-email E           WHARF_ADMIN_EMAIL         (admin@wharf.local)
  --admin-password P        WHARF_ADMIN_PASSWORD      (generated when absent)
  --heartbeat-interval D    WHARF_HEARTBEAT_INTERVAL  (5s)
  --heartbeat-ttl D         WHARF_HEARTBEAT_TTL       worker lost after this silence (15s)
  --reconnect-grace D       WHARF_RECONNECT_GRACE     after a master restart (30s)
  --retry-backoff D         WHARF_RETRY_BACKOFF       first retry delay (1s), doubling
  --retry-backoff-max D     WHARF_RETRY_BACKOFF_MAX   (5m)
  --cancel-grace D          WHARF_CANCEL_GRACE        SIGTERM to SIGKILL on cancel (10s)
  --max-output-bytes SIZE   WHARF_MAX_OUTPUT_BYTES    per task (10Gi)
  --max-log-bytes SIZE      WHARF_MAX_LOG_BYTES       per attempt (64Mi)
  --allow-user-exec         WHARF_ALLOW_USER_EXEC     let non-admins submit exec tasks (false)
  --log-level L             WHARF_LOG_LEVEL           trace|debug|info|warn|error (info)
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
  const master = await startMaster(config);
  const lines = [
    '',
    `  Wharf master is up`,
    `  API and dashboard:  ${master.httpUrl}`,
    `  Worker port (gRPC): ${master.grpcAddress}`,
    `  Admin login:        ${master.admin.email} / ${master.admin.password}`,
    `  Join token:         ${master.joinToken}`,
    `  Join a worker:      ./runWorker.sh --master ${master.grpcAddress} --token ${master.joinToken}`,
    '',
  ];
  console.log(lines.join('\n'));
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    master.logger.info({ signal }, 'stopping');
    master.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((error: unknown) => {
  console.error('wharf-master: failed to start:', error instanceof Error ? error.message : error);
  process.exit(1);
});
