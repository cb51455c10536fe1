import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { getLogger } from '../../src/common/logger.js';
import { loadBrokerConfig } from '../../src/cli/broker-config-loader.js';
import { BrokerController } from '../../src/broker/broker-controller.js';
import { createRequest } from '../../src/remoting/remoting-command.js';
import { RequestCode } from '../../src/protocol/request-code.js';
import { decodeClusterInfo } from '../../src/protocol/route-data.js';
import { startNamesrv } from '../helpers/namesrv.js';
import { tempDir } from '../helpers/temp-dir.js';
import { testClient } from '../helpers/broker-calls.js';
import { after } from 'node:test';

const root = new URL('../..', import.meta.url).pathname;
const seedDir = join(root, 'test/fixtures/seed-configs');
const log = getLogger('test.seed-configs');

/** Keys in the user's files that no RocketMQ version knows (typos); they are logged, not fatal. */
const KNOWN_TYPOS = new Set(['flushDiskTyp']);

test("every broker config from the user's notes loads unchanged; only real typos are unknown", () => {
  const files = readdirSync(seedDir).filter((f) => f.endsWith('.properties'));
  assert.ok(files.length >= 15, `found ${files.length} seed configs`);
  for (const f of files) {
    const cfg = loadBrokerConfig(join(seedDir, f), new Map(), log);
    for (const k of cfg.unknownKeys) assert.ok(KNOWN_TYPOS.has(k), `${f}: unexpected unknown key ${k}`);
    assert.ok(cfg.brokerConfig.brokerName, f);
    if (cfg.storeConfig.brokerRole === 'SLAVE')
      assert.ok(cfg.brokerConfig.brokerId > 0, `${f}: a slave has an id`);
    else assert.equal(cfg.brokerConfig.brokerId, 0, `${f}: a master has id 0`);
  }
  const sync = loadBrokerConfig(join(seedDir, 'seed-02.properties'), new Map(), log);
  assert.equal(
    sync.storeConfig.mappedFileSizeCommitLog,
    1073741824,
    'mapedFileSizeCommitLog (old spelling) honoured',
  );
  assert.equal(sync.storeConfig.maxMessageSize, 65536);
  assert.equal(sync.storeConfig.flushDiskType, 'SYNC_FLUSH');
  assert.equal(sync.storeConfig.brokerRole, 'SYNC_MASTER');
  assert.equal(sync.storeConfig.diskMaxUsedSpaceRatio, 88);
  assert.equal(sync.storeConfig.storePathCommitLog, './../data/master1/commitlog');
});

test('the 2m-noslave configs under conf/ start two masters that both appear in GET_BROKER_CLUSTER_INFO', async () => {
  const { addr: ns } = await startNamesrv();
  const brokers: BrokerController[] = [];
  after(async () => {
    for (const b of brokers) await b.shutdown();
  });
  for (const name of ['broker-a', 'broker-b']) {
    const dir = tempDir();
    const cfg = loadBrokerConfig(
      join(root, 'conf/2m-noslave', `${name}.properties`),
      new Map([
        ['namesrvAddr', ns],
        ['listenPort', '0'],
        ['bindAddress', '127.0.0.1'],
        ['brokerIP1', '127.0.0.1'],
        ['storePathRootDir', dir],
        ['mappedFileSizeCommitLog', String(4 * 1024 * 1024)],
      ]),
      log,
    );
    const b = new BrokerController({ ...cfg, log });
    await b.start();
    brokers.push(b);
  }
  const c = testClient();
  const info = decodeClusterInfo(
    (await c.invoke(ns, createRequest(RequestCode.GET_BROKER_CLUSTER_INFO))).body,
  );
  assert.deepEqual(info.clusterAddrTable.get('DefaultCluster')?.sort(), ['broker-a', 'broker-b']);
  for (const b of brokers)
    assert.equal(info.brokerAddrTable.get(b.config.brokerName)?.brokerAddrs.get(0), b.brokerAddr);
});
