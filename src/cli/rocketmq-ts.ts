/**
 * `rocketmq-ts <command>`: the project's own entry point. `standalone` runs a NameServer and a
 * broker in one process (what `npm start` runs).
 */
import { Command } from 'commander';
import { runStandalone } from './standalone.js';

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`not a port: ${value}`);
  return n;
}

export async function main(argv: string[]): Promise<void> {
  const program = new Command('rocketmq-ts').description('RocketMQ in TypeScript');
  program
    .command('standalone')
    .description('Run a NameServer and a broker in one process (data under ./data)')
    .option('--data <dir>', 'data folder', './data')
    .option('--host <ip>', 'address to listen on and to advertise', '127.0.0.1')
    .option('--namesrv-port <port>', 'NameServer port', port, 9876)
    .option('--broker-port <port>', 'broker port', port, 10911)
    .option('-c, --configFile <file>', 'broker .properties file (ports, host and paths above still apply)')
    .action(
      async (o: {
        data: string;
        host: string;
        namesrvPort: number;
        brokerPort: number;
        configFile?: string;
      }) => {
        await runStandalone(o);
      },
    );
  await program.parseAsync(argv);
}
