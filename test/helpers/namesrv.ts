import { after } from 'node:test';
import { join } from 'node:path';
import { getLogger } from '../../src/common/logger.js';
import { nettyServerConfigSchema } from '../../src/remoting/netty-server-config.js';
import { createNamesrvConfigSchema } from '../../src/namesrv/namesrv-config.js';
import { NamesrvController, type NamesrvControllerOptions } from '../../src/namesrv/namesrv-controller.js';
import { tempDir } from './temp-dir.js';

/** A NameServer on 127.0.0.1, ephemeral port, KV file in a temp dir; stopped after the suite. */
export async function startNamesrv(
  opts: { dir?: string } & Partial<
    Pick<NamesrvControllerOptions, 'brokerChannelExpiredMs' | 'scanIntervalMs'>
  > = {},
): Promise<{ namesrv: NamesrvController; addr: string; dir: string }> {
  const ref: { namesrv?: NamesrvController } = {};
  after(() => ref.namesrv?.shutdown());
  const dir = opts.dir ?? tempDir('rmq-namesrv-');
  const namesrvSchema = createNamesrvConfigSchema();
  const namesrvConfig = namesrvSchema.defaults();
  namesrvConfig.kvConfigPath = join(dir, 'kvConfig.json');
  const serverConfig = nettyServerConfigSchema.defaults();
  serverConfig.listenPort = 0;
  serverConfig.bindAddress = '127.0.0.1';
  const namesrv = new NamesrvController({
    namesrvConfig,
    namesrvSchema,
    serverConfig,
    brokerChannelExpiredMs: opts.brokerChannelExpiredMs,
    scanIntervalMs: opts.scanIntervalMs,
    log: getLogger('test.namesrv'),
  });
  await namesrv.start();
  ref.namesrv = namesrv;
  return { namesrv, addr: `127.0.0.1:${namesrv.port}`, dir };
}
