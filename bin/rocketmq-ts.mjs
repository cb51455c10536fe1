#!/usr/bin/env node
import { main } from '../dist/src/cli/rocketmq-ts.js';

main(process.argv).catch((err) => {
  process.stderr.write(`rocketmq-ts: ${err?.stack ?? err}\n`);
  process.exit(1);
});
