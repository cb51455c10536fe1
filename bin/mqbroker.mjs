#!/usr/bin/env -S node --initial-old-space-size=64
import { main } from '../dist/src/cli/mqbroker.js';

main(process.argv).catch((err) => {
  process.stderr.write(`mqbroker: ${err?.stack ?? err}\n`);
  process.exit(1);
});
