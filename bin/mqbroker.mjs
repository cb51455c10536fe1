#!/usr/bin/env node
import { main } from '../dist/src/cli/mqbroker.js';

main(process.argv).catch((err) => {
  process.stderr.write(`mqbroker: ${err?.stack ?? err}\n`);
  process.exit(1);
});
