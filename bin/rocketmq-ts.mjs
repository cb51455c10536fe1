#!/usr/bin/env -S node --initial-old-space-size=64
// The standalone process is for trying rocketmq-ts out in a terminal: only warnings and errors
// are logged unless ROCKETMQ_LOG_LEVEL says otherwise (set before the logger is loaded).
process.env.ROCKETMQ_LOG_LEVEL ??= 'warn';
const { main } = await import('../dist/src/cli/rocketmq-ts.js');

main(process.argv).catch((err) => {
  process.stderr.write(`rocketmq-ts: ${err?.stack ?? err}\n`);
  process.exit(1);
});
