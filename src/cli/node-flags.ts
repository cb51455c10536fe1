/**
 * V8 options every process that runs a broker starts with: bin/mqbroker.mjs and bin/rocketmq-ts.mjs
 * carry them on their `#!` line, `npm start` on its command line, and the e2e benchmark hands them
 * to its broker child (test/cli/node-flags.test.ts keeps the four in step). They play the part of
 * the JVM options in upstream's runbroker.sh.
 *
 * `--initial-old-space-size=64`: a broker's live heap is small (~8 MiB) while its young generation
 * grows to its 16 MiB maximum under load. V8 starts incremental marking as soon as the room left
 * under the old-generation limit is no larger than the young generation, and with a live heap this
 * small the limit it sets after each full collection never leaves more room than that, so marking
 * restarted right after every collection: ~18 full collections a second while producing or
 * serving pulls (measured with --trace-gc and --trace-incremental-marking), ~0.1 s of broker CPU
 * per 200,000 messages and pauses of 5-20 ms. With 64 MiB to start from the same runs did 3 full
 * collections in all, broker CPU serving 200,000 pulled messages fell ~27% and peak RSS did not
 * rise (186-190 MiB against 196-218). Heap flags cannot be changed once V8 is running, and
 * NODE_OPTIONS refuses this one, hence the command lines.
 */
export const BROKER_NODE_FLAGS: readonly string[] = ['--initial-old-space-size=64'];
