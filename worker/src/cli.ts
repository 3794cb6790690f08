#!/usr/bin/env node
// wharf-worker: joins this machine to a Wharf master. Settings come from flags and WHARF_*
// variables (see --help). A bad setting prints one line and exits 2; SIGINT/SIGTERM stop the
// worker gracefully (running tasks are stopped), a second signal exits at once.
import process from 'node:process';
import { describeWorkerSettings, loadWorkerConfig, WorkerConfigError, type WorkerConfig } from './config/worker-config.js';
import { createWorkerLogger } from './logger.js';
import { startWorker } from './main.js';

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log('usage: wharf-worker --master HOST:PORT --token TOKEN [options]\n\nflag                     environment variable');
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
  const worker = await startWorker(config, { logger });
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
