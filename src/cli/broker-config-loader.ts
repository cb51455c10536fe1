/**
 * Builds a broker's effective configuration the way upstream's BrokerStartup does: defaults,
 * then the `-c` file, then command-line values; listenPort defaults to 10911, the HA port is
 * listenPort + 1; masters get brokerId 0. A broker given a brokerId above 0 without a brokerRole
 * starts as a SLAVE (the seeds' configs rely on brokerId to mark slaves).
 */
import type { Logger } from '../common/logger.js';
import {
  createBrokerConfigSchema,
  type BrokerConfig,
  type BrokerConfigSchema,
} from '../broker/broker-config.js';
import { messageStoreConfigSchema, type MessageStoreConfig } from '../store/message-store-config.js';
import { nettyServerConfigSchema, type NettyServerConfig } from '../remoting/netty-server-config.js';
import { readPropertiesFile } from '../common/config/properties-file.js';
import { applyToAll } from '../common/config/config-schema.js';

export interface LoadedBrokerConfig {
  brokerSchema: BrokerConfigSchema;
  brokerConfig: BrokerConfig;
  storeConfig: MessageStoreConfig;
  serverConfig: NettyServerConfig;
  unknownKeys: string[];
}

export function loadBrokerConfig(
  file: string | undefined,
  overrides: Map<string, string>,
  log: Logger,
): LoadedBrokerConfig {
  const brokerSchema = createBrokerConfigSchema();
  const brokerConfig = brokerSchema.defaults();
  const storeConfig = messageStoreConfigSchema.defaults();
  const serverConfig = nettyServerConfigSchema.defaults();
  serverConfig.listenPort = 10911;
  const props = file ? readPropertiesFile(file) : new Map<string, string>();
  for (const [k, v] of overrides) props.set(k, v);
  const unknownKeys = applyToAll(props, file ?? 'command line', [
    [brokerSchema, brokerConfig],
    [messageStoreConfigSchema, storeConfig],
    [nettyServerConfigSchema, serverConfig],
  ]);
  if (unknownKeys.length > 0)
    log.warn({ file, keys: unknownKeys }, `unknown config keys ignored: ${unknownKeys.join(', ')}`);
  if (file) brokerConfig.brokerConfigPath = file;
  if (!props.has('brokerRole') && brokerConfig.brokerId > 0) storeConfig.brokerRole = 'SLAVE';
  if (storeConfig.brokerRole !== 'SLAVE') brokerConfig.brokerId = 0;
  if (!props.has('haListenPort') && serverConfig.listenPort > 0)
    storeConfig.haListenPort = serverConfig.listenPort + 1;
  return { brokerSchema, brokerConfig, storeConfig, serverConfig, unknownKeys };
}
