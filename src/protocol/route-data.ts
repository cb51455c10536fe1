/**
 * NameServer JSON bodies: TopicRouteData (GET_ROUTEINFO_BY_TOPIC), ClusterInfo
 * (GET_BROKER_CLUSTER_INFO), TopicList, KVTable, and RegisterBrokerBody (REGISTER_BROKER) in
 * both its JSON and its compressed form.
 *
 * brokerAddrs maps brokerId (0 = master) to "ip:port". fastjson writes that map with unquoted
 * integer keys; 4.9.8 answers standard JSON only to clients of version >= V4_9_4 (401) or that set
 * acceptStandardJsonOnly, and always the fastjson form for ClusterInfo. ali-ons (121) and old Go
 * clients depend on that, so both forms are produced here and both are accepted on input.
 *
 * Compressed RegisterBrokerBody (zlib stream): int32 len + DataVersion JSON; int32 topic count;
 * per topic int32 len + "name read write perm filterType"; int32 len + filter server list JSON.
 */
import { deflateSync, inflateSync } from 'node:zlib';
import { RmqError, ErrorCode, errorMessage } from '../common/errors.js';
import { mapEntries, parseJson, writeJson } from './fastjson.js';
import {
  dataVersionFromJson,
  decodeTopicConfigText,
  encodeTopicConfigText,
  topicConfigWrapperFromJson,
  topicConfigWrapperToJson,
  type TopicConfig,
  type TopicConfigSerializeWrapper,
} from './topic-config.js';

export const MASTER_ID = 0;

export interface QueueData {
  brokerName: string;
  readQueueNums: number;
  writeQueueNums: number;
  perm: number;
  topicSysFlag: number;
}

export interface BrokerData {
  cluster: string;
  brokerName: string;
  /** brokerId -> address */
  brokerAddrs: Map<number, string>;
}

export interface TopicRouteData {
  orderTopicConf?: string | undefined;
  queueDatas: QueueData[];
  brokerDatas: BrokerData[];
  filterServerTable: Map<string, string[]>;
}

export interface ClusterInfo {
  brokerAddrTable: Map<string, BrokerData>;
  clusterAddrTable: Map<string, string[]>;
}

function sortedAddrs(addrs: Map<number, string>): Map<number, string> {
  return new Map([...addrs].sort((a, b) => a[0] - b[0]));
}

function brokerDataJson(bd: BrokerData): Record<string, unknown> {
  return { cluster: bd.cluster, brokerName: bd.brokerName, brokerAddrs: sortedAddrs(bd.brokerAddrs) };
}

export function encodeTopicRouteData(route: TopicRouteData, standard: boolean): Buffer {
  const json = writeJson(
    {
      orderTopicConf: route.orderTopicConf,
      queueDatas: route.queueDatas,
      brokerDatas: route.brokerDatas.map(brokerDataJson),
      filterServerTable: Object.fromEntries(route.filterServerTable),
    },
    { standard },
  );
  return Buffer.from(json, 'utf8');
}

function num(v: unknown): number {
  return typeof v === 'number' ? v : Number(v ?? 0) || 0;
}

function brokerDataFromJson(raw: unknown): BrokerData {
  const o = (raw ?? {}) as Record<string, unknown>;
  const addrs = new Map<number, string>();
  for (const [id, addr] of mapEntries(o.brokerAddrs)) addrs.set(Number(id), String(addr));
  return { cluster: String(o.cluster ?? ''), brokerName: String(o.brokerName ?? ''), brokerAddrs: addrs };
}

function bodyJson(body: Buffer | undefined, what: string): Record<string, unknown> {
  if (!body || body.length === 0) throw new RmqError(ErrorCode.ILLEGAL_ARGUMENT, `${what}: empty body`);
  try {
    const v = parseJson(body.toString('utf8'));
    if (v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Map))
      return v as Record<string, unknown>;
  } catch (err) {
    throw new RmqError(ErrorCode.ILLEGAL_ARGUMENT, `${what}: ${errorMessage(err)}`);
  }
  throw new RmqError(ErrorCode.ILLEGAL_ARGUMENT, `${what}: body is not a JSON object`);
}

export function decodeTopicRouteData(body: Buffer | undefined): TopicRouteData {
  const o = bodyJson(body, 'TopicRouteData');
  const queueDatas = (Array.isArray(o.queueDatas) ? o.queueDatas : []).map((q) => {
    const r = (q ?? {}) as Record<string, unknown>;
    return {
      brokerName: String(r.brokerName ?? ''),
      readQueueNums: num(r.readQueueNums),
      writeQueueNums: num(r.writeQueueNums),
      perm: num(r.perm),
      // Named topicSynFlag up to 4.7.x.
      topicSysFlag: num(r.topicSysFlag ?? r.topicSynFlag),
    };
  });
  const filterServerTable = new Map<string, string[]>();
  for (const [addr, list] of mapEntries(o.filterServerTable)) {
    filterServerTable.set(addr, Array.isArray(list) ? list.map(String) : []);
  }
  return {
    orderTopicConf: typeof o.orderTopicConf === 'string' ? o.orderTopicConf : undefined,
    queueDatas,
    brokerDatas: (Array.isArray(o.brokerDatas) ? o.brokerDatas : []).map(brokerDataFromJson),
    filterServerTable,
  };
}

export function encodeClusterInfo(info: ClusterInfo, standard = false): Buffer {
  const brokerAddrTable = new Map<string, Record<string, unknown>>();
  for (const [name, bd] of info.brokerAddrTable) brokerAddrTable.set(name, brokerDataJson(bd));
  return Buffer.from(
    writeJson({ brokerAddrTable, clusterAddrTable: Object.fromEntries(info.clusterAddrTable) }, { standard }),
    'utf8',
  );
}

export function decodeClusterInfo(body: Buffer | undefined): ClusterInfo {
  const o = bodyJson(body, 'ClusterInfo');
  const brokerAddrTable = new Map<string, BrokerData>();
  for (const [name, bd] of mapEntries(o.brokerAddrTable)) brokerAddrTable.set(name, brokerDataFromJson(bd));
  const clusterAddrTable = new Map<string, string[]>();
  for (const [cluster, names] of mapEntries(o.clusterAddrTable)) {
    clusterAddrTable.set(cluster, Array.isArray(names) ? names.map(String) : []);
  }
  return { brokerAddrTable, clusterAddrTable };
}

export interface TopicList {
  topicList: string[];
  brokerAddr?: string | undefined;
}

export function encodeTopicList(list: TopicList): Buffer {
  return Buffer.from(writeJson(list), 'utf8');
}

export function decodeTopicList(body: Buffer | undefined): TopicList {
  const o = bodyJson(body, 'TopicList');
  return {
    topicList: Array.isArray(o.topicList) ? o.topicList.map(String) : [],
    brokerAddr: typeof o.brokerAddr === 'string' ? o.brokerAddr : undefined,
  };
}

export function encodeKVTable(table: Map<string, string>): Buffer {
  return Buffer.from(writeJson({ table: Object.fromEntries(table) }), 'utf8');
}

export function decodeKVTable(body: Buffer | undefined): Map<string, string> {
  const o = bodyJson(body, 'KVTable');
  return new Map(mapEntries(o.table).map(([k, v]) => [k, String(v)]));
}

export interface RegisterBrokerBody {
  topicConfigSerializeWrapper: TopicConfigSerializeWrapper;
  filterServerList: string[];
}

function int32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeInt32BE(n, 0);
  return b;
}

export function encodeRegisterBrokerBody(body: RegisterBrokerBody, compressed: boolean): Buffer {
  if (!compressed) {
    return Buffer.from(
      writeJson({
        topicConfigSerializeWrapper: topicConfigWrapperToJson(body.topicConfigSerializeWrapper),
        filterServerList: body.filterServerList,
      }),
      'utf8',
    );
  }
  const parts: Buffer[] = [];
  const push = (b: Buffer): void => {
    parts.push(int32(b.length), b);
  };
  push(Buffer.from(writeJson(body.topicConfigSerializeWrapper.dataVersion), 'utf8'));
  parts.push(int32(body.topicConfigSerializeWrapper.topicConfigTable.size));
  for (const tc of body.topicConfigSerializeWrapper.topicConfigTable.values()) {
    push(Buffer.from(encodeTopicConfigText(tc), 'utf8'));
  }
  push(Buffer.from(JSON.stringify(body.filterServerList), 'utf8'));
  return deflateSync(Buffer.concat(parts), { level: 9 });
}

/**
 * Decodes a REGISTER_BROKER body. `legacy` is a pre-V3_0_11 broker sending the bare wrapper.
 * Throws RmqError(ILLEGAL_ARGUMENT) on anything malformed.
 */
export function decodeRegisterBrokerBody(
  raw: Buffer | undefined,
  compressed: boolean,
  legacy = false,
): RegisterBrokerBody {
  if (!raw || raw.length === 0) {
    return {
      topicConfigSerializeWrapper: { topicConfigTable: new Map(), dataVersion: { timestamp: 0, counter: 0 } },
      filterServerList: [],
    };
  }
  if (legacy) {
    return {
      topicConfigSerializeWrapper: topicConfigWrapperFromJson(bodyJson(raw, 'TopicConfigSerializeWrapper')),
      filterServerList: [],
    };
  }
  if (!compressed) {
    const o = bodyJson(raw, 'RegisterBrokerBody');
    return {
      topicConfigSerializeWrapper: topicConfigWrapperFromJson(o.topicConfigSerializeWrapper),
      filterServerList: Array.isArray(o.filterServerList) ? o.filterServerList.map(String) : [],
    };
  }
  let data: Buffer;
  try {
    data = inflateSync(raw);
  } catch (err) {
    throw new RmqError(
      ErrorCode.ILLEGAL_ARGUMENT,
      `RegisterBrokerBody: bad zlib stream: ${errorMessage(err)}`,
    );
  }
  let pos = 0;
  const take = (): Buffer => {
    if (pos + 4 > data.length)
      throw new RmqError(ErrorCode.ILLEGAL_ARGUMENT, 'RegisterBrokerBody: truncated');
    const len = data.readInt32BE(pos);
    pos += 4;
    if (len < 0 || pos + len > data.length) {
      throw new RmqError(ErrorCode.ILLEGAL_ARGUMENT, 'RegisterBrokerBody: length past the end');
    }
    const out = data.subarray(pos, pos + len);
    pos += len;
    return out;
  };
  const dataVersion = dataVersionFromJson(parseJson(take().toString('utf8')));
  if (pos + 4 > data.length) throw new RmqError(ErrorCode.ILLEGAL_ARGUMENT, 'RegisterBrokerBody: truncated');
  const count = data.readInt32BE(pos);
  pos += 4;
  const table = new Map<string, TopicConfig>();
  for (let i = 0; i < count; i++) {
    const tc = decodeTopicConfigText(take().toString('utf8'));
    if (tc) table.set(tc.topicName, tc);
  }
  const filters = parseJson(take().toString('utf8'));
  return {
    topicConfigSerializeWrapper: { topicConfigTable: table, dataVersion },
    filterServerList: Array.isArray(filters) ? filters.map(String) : [],
  };
}
