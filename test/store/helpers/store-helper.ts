import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { MessageStore, type MessageStoreOptions } from '../../../src/store/message-store.js';
import {
  defaultMessageStoreConfig,
  type MessageStoreConfig,
} from '../../../src/store/message-store-config.js';
import type { MessageToStore } from '../../../src/store/store-types.js';

/** A temp dir removed after the test file. */
export function tempDir(prefix = 'rmq-store-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Small sizes so tests roll files quickly. */
export function testConfig(root: string, overrides: Partial<MessageStoreConfig> = {}): MessageStoreConfig {
  return defaultMessageStoreConfig({
    storePathRootDir: root,
    mappedFileSizeCommitLog: 64 * 1024,
    mappedFileSizeConsumeQueue: 20 * 100,
    maxHashSlotNum: 1000,
    maxIndexNum: 4000,
    flushIntervalCommitLog: 50,
    flushIntervalConsumeQueue: 50,
    cleanResourceInterval: 3600000,
    writeBufferSize: 64 * 1024,
    ...overrides,
  });
}

export const STORE_HOST = { host: '127.0.0.1', port: 10911 };

export async function openStore(
  cfg: MessageStoreConfig,
  opts: Partial<MessageStoreOptions> = {},
): Promise<MessageStore> {
  const s = new MessageStore(cfg, { storeHost: STORE_HOST, ...opts });
  await s.start();
  return s;
}

export function msg(
  topic: string,
  queueId: number,
  body: string | Buffer,
  props = '',
  extra: Partial<MessageToStore> = {},
): MessageToStore {
  return {
    topic,
    queueId,
    body: typeof body === 'string' ? Buffer.from(body) : body,
    flag: 0,
    properties: props,
    sysFlag: 0,
    bornTimestamp: 1700000000000,
    bornHost: { host: '10.0.0.1', port: 5555 },
    ...extra,
  };
}

export function props(map: Record<string, string>): string {
  return Object.entries(map)
    .map(([k, v]) => `${k}\u0001${v}`)
    .join('\u0002');
}
