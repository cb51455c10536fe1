#!/usr/bin/env node
import { main } from '../dist/src/cli/mqshutdown.js';

process.exitCode = main(process.argv);
