#!/usr/bin/env node
import { main } from '../dist/src/cli/mqnamesrv.js';

main(process.argv).catch((err) => {
  process.stderr.write(`mqnamesrv: ${err?.stack ?? err}\n`);
  process.exit(1);
});
