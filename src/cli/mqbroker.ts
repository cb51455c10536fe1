/**
 * `mqbroker [-n namesrv1:9876;namesrv2:9876] [-c broker.properties] [-p | -m]`: starts a broker.
 * Prints upstream's boot line when serving; SIGTERM/SIGINT (and `mqshutdown broker`) stop it
 * cleanly: store flushed, checkpoint written, offsets saved, unregistered from NameServers.
 */
import { Command } from 'commander';
import { getLogger } from '../common/logger.js';
import { formatProperties } from '../common/config/properties-file.js';
import { BrokerController } from '../broker/broker-controller.js';
import { messageStoreConfigSchema } from '../store/message-store-config.js';
import { nettyServerConfigSchema } from '../remoting/netty-server-config.js';
import { exitOnStartupError } from './load-config.js';
import { loadBrokerConfig } from './broker-config-loader.js';
import { writePidFile } from './pid-files.js';
import { runUntilSignal } from './run-until-signal.js';

export async function main(argv: string[]): Promise<void> {
  const program = new Command('mqbroker')
    .description('Start a RocketMQ broker')
    .option('-c, --configFile <file>', 'Broker config properties file')
    .option('-n, --namesrvAddr <addr>', "Name server address list, eg: '192.168.0.1:9876;192.168.0.2:9876'")
    .option('-p, --printConfigItem', 'Print all config items')
    .option('-m, --printImportantConfig', 'Print important config items')
    .parse(argv);
  const opts = program.opts<{
    configFile?: string;
    namesrvAddr?: string;
    printConfigItem?: boolean;
    printImportantConfig?: boolean;
  }>();
  const log = getLogger('broker');
  const overrides = new Map<string, string>();
  if (opts.namesrvAddr) overrides.set('namesrvAddr', opts.namesrvAddr);

  let loaded;
  try {
    loaded = loadBrokerConfig(opts.configFile, overrides, log);
    if (opts.configFile) process.stdout.write(`load config properties file OK, ${opts.configFile}\n`);
  } catch (err) {
    exitOnStartupError(err, 'mqbroker');
  }
  const { brokerSchema, brokerConfig, storeConfig, serverConfig } = loaded;
  if (opts.printConfigItem || opts.printImportantConfig) {
    const important = !opts.printConfigItem;
    process.stdout.write(
      formatProperties([
        ...brokerSchema.entries(brokerConfig, important),
        ...nettyServerConfigSchema.entries(serverConfig, important),
        ...messageStoreConfigSchema.entries(storeConfig, important),
      ]),
    );
    return;
  }

  let broker: BrokerController;
  try {
    broker = new BrokerController({ brokerConfig, brokerSchema, storeConfig, serverConfig, log });
    await broker.start();
  } catch (err) {
    exitOnStartupError(err, 'mqbroker');
  }
  const removePid = writePidFile('broker', { port: broker.port, brokerName: brokerConfig.brokerName });
  let tip = `The broker[${brokerConfig.brokerName}, ${broker.brokerAddr}] boot success. serializeType=JSON`;
  if (brokerConfig.namesrvAddr) tip += ` and name server is ${brokerConfig.namesrvAddr}`;
  process.stdout.write(`${tip}\n`);
  await runUntilSignal(async () => {
    await broker.shutdown();
    removePid();
  }, log);
}
