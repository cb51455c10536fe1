/**
 * `rocketmq-ts standalone` (`npm start`): a NameServer and a broker in one process, data under
 * ./data, listening on 127.0.0.1 by default: the quickest way to try rocketmq-ts. Ctrl-C (SIGINT)
 * or SIGTERM stops both cleanly. For real deployments run `mqnamesrv` and `mqbroker`.
 */
import { join, resolve } from 'node:path';
import { getLogger } from '../common/logger.js';
import { nettyServerConfigSchema } from '../remoting/netty-server-config.js';
import { createNamesrvConfigSchema } from '../namesrv/namesrv-config.js';
import { NamesrvController } from '../namesrv/namesrv-controller.js';
import { BrokerController } from '../broker/broker-controller.js';
import { loadBrokerConfig } from './broker-config-loader.js';
import { exitOnStartupError } from './load-config.js';
import { writePidFile } from './pid-files.js';
import { runUntilSignal } from './run-until-signal.js';

export interface StandaloneOptions {
  data: string;
  host: string;
  namesrvPort: number;
  brokerPort: number;
  configFile?: string;
}

export async function runStandalone(opts: StandaloneOptions): Promise<void> {
  const log = getLogger('standalone');
  const data = resolve(opts.data);

  const namesrvSchema = createNamesrvConfigSchema();
  const namesrvConfig = namesrvSchema.defaults();
  namesrvConfig.kvConfigPath = join(data, 'namesrv', 'kvConfig.json');
  const namesrvServer = nettyServerConfigSchema.defaults();
  namesrvServer.listenPort = opts.namesrvPort;
  namesrvServer.bindAddress = opts.host;
  const namesrv = new NamesrvController({
    namesrvConfig,
    namesrvSchema,
    serverConfig: namesrvServer,
    log: log.child({ role: 'namesrv' }),
  });

  let broker: BrokerController;
  try {
    await namesrv.start();
    const namesrvAddr = `${opts.host}:${namesrv.port}`;
    const overrides = new Map<string, string>([
      ['namesrvAddr', namesrvAddr],
      ['listenPort', String(opts.brokerPort)],
      ['bindAddress', opts.host],
      ['brokerIP1', opts.host],
      ['brokerIP2', opts.host],
      ['storePathRootDir', join(data, 'store')],
    ]);
    if (!opts.configFile) overrides.set('brokerName', 'broker-a');
    const cfg = loadBrokerConfig(opts.configFile, overrides, log);
    broker = new BrokerController({ ...cfg, log: log.child({ role: 'broker' }) });
    await broker.start();
  } catch (err) {
    await namesrv.shutdown();
    exitOnStartupError(err, 'rocketmq-ts standalone');
  }
  const removePid = writePidFile('standalone', { port: broker.port, namesrvPort: namesrv.port });
  const namesrvAddr = `${opts.host}:${namesrv.port}`;
  process.stdout.write(
    [
      'rocketmq-ts standalone is running',
      `  NameServer  ${namesrvAddr}`,
      `  Broker      ${broker.brokerAddr} (${broker.config.brokerName}, cluster ${broker.config.brokerClusterName})`,
      `  Data        ${data}`,
      '',
      'Try the quickstart in another terminal:',
      `  NAMESRV_ADDR=${namesrvAddr} node dist/examples/quickstart/producer.js`,
      `  NAMESRV_ADDR=${namesrvAddr} node dist/examples/quickstart/consumer.js`,
      '',
      'Ctrl-C stops it.',
      '',
    ].join('\n'),
  );
  await runUntilSignal(async () => {
    await broker.shutdown();
    await namesrv.shutdown();
    removePid();
  }, log);
}
