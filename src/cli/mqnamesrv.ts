/**
 * `mqnamesrv [-c namesrv.properties] [-p]`: starts a NameServer (default port 9876).
 * Prints upstream's boot line when listening; SIGTERM/SIGINT (and `mqshutdown namesrv`) stop it.
 */
import { Command } from 'commander';
import { getLogger } from '../common/logger.js';
import { formatProperties } from '../common/config/properties-file.js';
import { nettyServerConfigSchema } from '../remoting/netty-server-config.js';
import { createNamesrvConfigSchema } from '../namesrv/namesrv-config.js';
import { NamesrvController } from '../namesrv/namesrv-controller.js';
import { applyConfigFile, exitOnStartupError } from './load-config.js';
import { writePidFile } from './pid-files.js';
import { runUntilSignal } from './run-until-signal.js';

export async function main(argv: string[]): Promise<void> {
  const program = new Command('mqnamesrv')
    .description('Start a RocketMQ NameServer')
    .option('-c, --configFile <file>', 'Name server config properties file')
    .option('-p, --printConfigItem', 'Print all config items')
    .option('-n, --namesrvAddr <addr>', 'Name server address list (accepted for compatibility)')
    .parse(argv);
  const opts = program.opts<{ configFile?: string; printConfigItem?: boolean }>();
  const log = getLogger('namesrv');

  const namesrvSchema = createNamesrvConfigSchema();
  const namesrvConfig = namesrvSchema.defaults();
  const serverConfig = nettyServerConfigSchema.defaults();
  serverConfig.listenPort = 9876;
  try {
    applyConfigFile(
      opts.configFile,
      [
        [namesrvSchema, namesrvConfig],
        [nettyServerConfigSchema, serverConfig],
      ],
      log,
    );
    if (opts.configFile) {
      namesrvConfig.configStorePath = opts.configFile;
      process.stdout.write(`load config properties file OK, ${opts.configFile}\n`);
    }
  } catch (err) {
    exitOnStartupError(err, 'mqnamesrv');
  }
  if (opts.printConfigItem) {
    process.stdout.write(
      formatProperties([
        ...namesrvSchema.entries(namesrvConfig),
        ...nettyServerConfigSchema.entries(serverConfig),
      ]),
    );
    return;
  }

  const controller = new NamesrvController({ namesrvConfig, namesrvSchema, serverConfig, log });
  try {
    await controller.start();
  } catch (err) {
    exitOnStartupError(err, 'mqnamesrv');
  }
  const removePid = writePidFile('namesrv', { port: controller.port });
  process.stdout.write('The Name Server boot success. serializeType=JSON\n');
  await runUntilSignal(async () => {
    await controller.shutdown();
    removePid();
  }, log);
}
