import type { Logger } from '../common/logger.js';

/**
 * Keeps a server process up until SIGTERM or SIGINT, then runs `shutdown` once and exits 0
 * (1 if shutdown failed). A second signal during shutdown exits at once.
 */
export function runUntilSignal(shutdown: () => Promise<void>, log: Logger): Promise<void> {
  return new Promise<void>(() => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stopping) {
        log.warn({ signal }, 'second signal during shutdown, exiting now');
        process.exit(1);
      }
      stopping = true;
      log.info({ signal }, 'shutting down');
      shutdown().then(
        () => process.exit(0),
        (err: unknown) => {
          log.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
