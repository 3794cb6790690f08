#!/usr/bin/env node
// wharf-worker: joins this machine to a Wharf master. Settings come from flags and WHARF_*
// variables (see --help). A bad setting prints one line and exits 2; SIGINT/SIGTERM stop the
// worker gracefully (running tasks are stopped), a second signal exits at once.
import process from 'node:process';
import { describeWorkerSettings, loadWorkerConfig, tokenOnCommandLine, WorkerConfigError, type WorkerConfig } from './config/worker-config.js';
import { createWorkerLogger } from './logger.js';
import { startWorker } from './main.js';

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(
      'usage: wharf-worker --master HOST:PORT --token-file FILE --ca-hash sha256:HEX [options]\n' +
        '  The join token and the CA hash are needed only to join (the first start); after that the\n' +
        '  worker authenticates with the certificate the master gave it (<data-dir>/tls).\n' +
        '  Several masters: --master h1:50051,h2:50051,h3:50051 (or a DNS name with one address per\n' +
        '  master); the worker registers with the leader and follows it when another one takes over.\n\nflag                     environment variable',
    );
    for (const line of describeWorkerSettings()) console.log(line);
    return;
  }
  let config: WorkerConfig;
  try {
    config = loadWorkerConfig(argv, process.env);
  } catch (error: unknown) {
    if (error instanceof WorkerConfigError) {
      console.error(`wharf-worker: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createWorkerLogger({ level: config.logLevel, pretty: process.stdout.isTTY });
  if (tokenOnCommandLine(argv)) {
    logger.warn('the join token was given with --token: any user of this machine can read it in `ps`; use --token-file FILE or WHARF_JOIN_TOKEN');
  }
  // a signal while the worker is still joining gives up the wait
  const starting = new AbortController();
  const onEarlySignal = (): void => starting.abort();
  process.once('SIGINT', onEarlySignal);
  process.once('SIGTERM', onEarlySignal);
  const worker = await startWorker(config, { logger, signal: starting.signal });
  process.off('SIGINT', onEarlySignal);
  process.off('SIGTERM', onEarlySignal);
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals += 1;
    if (signals > 1) process.exit(130);
    logger.info({ signal }, 'stopping');
    void worker.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

main().catch((error: unknown) => {
  console.error(`wharf-worker: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
