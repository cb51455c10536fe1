import { after } from 'node:test';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { getLogger } from '../../src/common/logger.js';
import { BrokerController, type BrokerControllerOptions } from '../../src/broker/broker-controller.js';
import { loadBrokerConfig } from '../../src/cli/broker-config-loader.js';
import { tempDir } from './temp-dir.js';

export interface TestBrokerOptions {
  namesrvAddr?: string;
  dir?: string;
  /** Extra broker.properties keys (strings, as in a file). */
  props?: Record<string, string>;
  controller?: Partial<
    Pick<BrokerControllerOptions, 'housekeepingIntervalMs' | 'channelExpiredMs' | 'pullHoldCheckIntervalMs'>
  >;
}

/**
 * A broker on 127.0.0.1 with an ephemeral port and its store in a temp dir (small segments),
 * configured through the same loader as `mqbroker`; shut down after the suite.
 */
export async function startBroker(
  opts: TestBrokerOptions = {},
): Promise<{ broker: BrokerController; addr: string; dir: string }> {
  // Registered before the temp dir's removal: `after` hooks run in registration order. A broker
  // restarted on an earlier broker's dir comes after that dir's removal, and its shutdown writes
  // the config files again: it removes the dir itself once stopped.
  const ref: { broker?: BrokerController } = {};
  const reused = opts.dir;
  after(async () => {
    await ref.broker?.shutdown();
    if (reused) rmSync(reused, { recursive: true, force: true });
  });
  const dir = reused ?? tempDir('rmq-broker-');
  const props = new Map<string, string>(
    Object.entries({
      brokerName: 'broker-a',
      brokerClusterName: 'DefaultCluster',
      brokerIP1: '127.0.0.1',
      brokerIP2: '127.0.0.1',
      listenPort: '0',
      bindAddress: '127.0.0.1',
      storePathRootDir: join(dir, 'store'),
      mappedFileSizeCommitLog: String(16 * 1024 * 1024),
      mappedFileSizeConsumeQueue: '30000',
      namesrvAddr: opts.namesrvAddr ?? '',
      ...opts.props,
    }),
  );
  const log = getLogger('test.broker');
  const cfg = loadBrokerConfig(undefined, props, log);
  const b = new BrokerController({ ...cfg, log, ...opts.controller });
  await b.start();
  ref.broker = b;
  return { broker: b, addr: `127.0.0.1:${b.port}`, dir };
}
