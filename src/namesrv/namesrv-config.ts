/** NameServer keys, as upstream's NamesrvConfig. */
import { ConfigSchema, boolKey, stringKey, type ConfigOf } from '../common/config/config-schema.js';
import { underHome } from '../common/paths.js';

export function createNamesrvConfigSchema() {
  return new ConfigSchema({
    rocketmqHome: stringKey(process.env.ROCKETMQ_HOME ?? ''),
    kvConfigPath: stringKey(underHome('namesrv', 'kvConfig.json'), { important: true }),
    configStorePath: stringKey(underHome('namesrv', 'namesrv.properties')),
    productEnvName: stringKey('center'),
    clusterTest: boolKey(false),
    orderMessageEnable: boolKey(false),
    configBlackList: stringKey('configBlackList;configStorePath;kvConfigPath'),
  });
}

export type NamesrvConfigSchema = ReturnType<typeof createNamesrvConfigSchema>;
export type NamesrvConfig = ConfigOf<NamesrvConfigSchema['defs']>;
