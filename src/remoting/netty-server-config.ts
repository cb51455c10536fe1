/**
 * Server socket keys, as upstream's NettyServerConfig (shared by NameServer and broker files).
 * Thread-pool and buffer keys are accepted so existing files load; Node has one event loop, so
 * they do not change behaviour.
 */
import { ConfigSchema, boolKey, intKey, stringKey, type ConfigOf } from '../common/config/config-schema.js';

export const nettyServerConfigSchema = new ConfigSchema({
  listenPort: intKey(8888, { min: 0, max: 65535, important: true }),
  bindAddress: stringKey('0.0.0.0'),
  serverChannelMaxIdleTimeSeconds: intKey(120, { min: 0 }),
  serverWorkerThreads: intKey(8),
  serverCallbackExecutorThreads: intKey(0),
  serverSelectorThreads: intKey(3),
  serverOnewaySemaphoreValue: intKey(256),
  serverAsyncSemaphoreValue: intKey(64),
  serverSocketSndBufSize: intKey(0),
  serverSocketRcvBufSize: intKey(0),
  writeBufferHighWaterMark: intKey(0),
  writeBufferLowWaterMark: intKey(0),
  serverSocketBacklog: intKey(1024),
  serverPooledByteBufAllocatorEnable: boolKey(true),
  useEpollNativeSelector: boolKey(false),
  useTLS: boolKey(false),
});

export type NettyServerConfig = ConfigOf<typeof nettyServerConfigSchema.defs>;
