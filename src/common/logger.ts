import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/**
 * Root logger. Level from ROCKETMQ_LOG_LEVEL (default info; tests default to warn so their output
 * stays readable). Logs go to stderr so CLIs can keep stdout for their own answers.
 */
function defaultLevel(): string {
  const env = process.env.ROCKETMQ_LOG_LEVEL;
  if (env) return env;
  if (process.env.NODE_TEST_CONTEXT) return 'warn';
  return 'info';
}

const options: LoggerOptions = {
  level: defaultLevel(),
  base: { pid: process.pid },
  timestamp: pino.stdTimeFunctions.isoTime,
};

const root: Logger = pino(options, pino.destination({ fd: 2, sync: false }));

/** One logger per component, e.g. `getLogger('namesrv.route-info')`. */
export function getLogger(component: string): Logger {
  return root.child({ component });
}
