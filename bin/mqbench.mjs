#!/usr/bin/env node
import { main } from '../dist/src/cli/mqbench/main.js';

main(process.argv).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`mqbench: ${err?.stack ?? err}\n`);
    process.exit(1);
  },
);
