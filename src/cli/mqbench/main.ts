/**
 * `mqbench producer|consumer|tproducer|batchproducer [options]`: RocketMQ's benchmark tools with
 * upstream's flags (see options.ts). Ctrl-C (SIGINT) or SIGTERM ends a run early; it still prints
 * its summary and JSON line. Exit code 0, or 1 on bad options or a failed start.
 */
import { errorMessage } from '../../common/errors.js';
import {
  TOOLS,
  batchProducerConfig,
  consumerConfig,
  producerConfig,
  tproducerConfig,
  type ToolName,
} from './options.js';
import { runProducerBench } from './producer-bench.js';
import { runConsumerBench } from './consumer-bench.js';
import { runTransactionProducerBench } from './tproducer-bench.js';
import { runBatchProducerBench } from './batch-producer-bench.js';
import { stdoutOut, type Out } from './stats.js';

const USAGE = `usage: mqbench <producer|consumer|tproducer|batchproducer> [options]   (-h for a tool's options)\n`;

/** Runs one tool; resolves with its figures. Throws RmqError(ILLEGAL_ARGUMENT) on bad options. */
export async function runTool(
  tool: ToolName,
  args: readonly string[],
  out: Out = stdoutOut,
  interrupt?: AbortSignal,
): Promise<object | undefined> {
  const parser = TOOLS[tool];
  const o = parser.parse(args);
  if (o.has('h')) {
    out(parser.help(`mqbench ${tool}`).trimEnd());
    return undefined;
  }
  switch (tool) {
    case 'producer':
      return runProducerBench(producerConfig(o), out, interrupt);
    case 'consumer':
      return runConsumerBench(consumerConfig(o), out, interrupt);
    case 'tproducer':
      return runTransactionProducerBench(tproducerConfig(o), out, interrupt);
    case 'batchproducer':
      return runBatchProducerBench(batchProducerConfig(o), out, interrupt);
  }
}

export async function main(argv: string[]): Promise<number> {
  const [tool, ...args] = argv.slice(2);
  if (!tool || tool === '-h' || tool === '--help' || !(tool in TOOLS)) {
    process.stderr.write(tool && !tool.startsWith('-') ? `mqbench: unknown tool '${tool}'\n${USAGE}` : USAGE);
    return tool === '-h' || tool === '--help' ? 0 : 1;
  }
  const name = tool as ToolName;
  const abort = new AbortController();
  const stop = (): void => abort.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    await runTool(name, args, stdoutOut, abort.signal);
    return 0;
  } catch (err) {
    process.stderr.write(`mqbench ${name}: ${errorMessage(err)}\n`);
    if ((err as { code?: string }).code === 'RMQ_ILLEGAL_ARGUMENT') {
      process.stderr.write(TOOLS[name].help(`mqbench ${name}`));
    }
    return 1;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
