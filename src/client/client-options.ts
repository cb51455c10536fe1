/**
 * Options every client (producer, consumers, admin) shares, with upstream ClientConfig's names and
 * defaults, and the client id built from them: `clientIP@instanceName[@unitName]`. Clients with the
 * same client id and NameServer list share one MQClientInstance (connections, routes, heartbeats);
 * as upstream, the instance runs with the settings of the client that created it.
 */
import { localAddress } from '../common/local-address.js';
import { RmqError, ErrorCode } from '../common/errors.js';
import { SerializeType, type SerializeTypeValue } from '../remoting/remoting-command.js';

export interface ClientOptions {
  /** `host:port[;host:port...]`; default the NAMESRV_ADDR environment variable. */
  namesrvAddr?: string;
  /** Default `DEFAULT`; producers and clustering consumers then use the process id, as upstream. */
  instanceName?: string;
  /** The address put in the client id; default the first non-loopback IPv4 address. */
  clientIP?: string;
  unitName?: string;
  /** Route refresh period (upstream pollNameServerInterval, 30 s). */
  pollNameServerInterval?: number;
  /** Heartbeat period to every broker of the routes (30 s). */
  heartbeatBrokerInterval?: number;
  /** Consumer offset commit period (5 s). */
  persistConsumerOffsetInterval?: number;
  /** Delay before a pull that failed is retried (1 s). */
  pullTimeDelayMillsWhenException?: number;
  /** Timeout of NameServer and admin calls (3 s). */
  mqClientApiTimeout?: number;
  /** Header encoding of our requests: JSON (default, what every peer reads) or ROCKETMQ (binary, faster). */
  serializeType?: 'JSON' | 'ROCKETMQ';
}

export interface ClientConfig {
  namesrvAddrs: string[];
  instanceName: string;
  clientIP: string;
  unitName: string | undefined;
  pollNameServerInterval: number;
  heartbeatBrokerInterval: number;
  persistConsumerOffsetInterval: number;
  pullTimeDelayMillsWhenException: number;
  mqClientApiTimeout: number;
  serializeType: SerializeTypeValue;
}

export const DEFAULT_INSTANCE_NAME = 'DEFAULT';

export function parseNamesrvAddr(addr: string | undefined): string[] {
  return (addr ?? '')
    .split(';')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function positive(name: string, v: number | undefined, d: number): number {
  if (v === undefined) return d;
  if (!Number.isFinite(v) || v <= 0) {
    throw new RmqError(ErrorCode.ILLEGAL_ARGUMENT, `${name} must be a positive number, got ${v}`);
  }
  return v;
}

/**
 * Fills defaults. `instanceNameToPid` is upstream's changeInstanceNameToPID: producers and
 * clustering consumers left at DEFAULT get the process id, so two processes on one host differ.
 */
export function resolveClientConfig(o: ClientOptions, instanceNameToPid: boolean): ClientConfig {
  const namesrvAddrs = parseNamesrvAddr(o.namesrvAddr ?? process.env.NAMESRV_ADDR);
  if (namesrvAddrs.length === 0) {
    throw new RmqError(
      ErrorCode.CONFIG_INVALID,
      'no NameServer address: set the namesrvAddr option or the NAMESRV_ADDR environment variable',
    );
  }
  let instanceName = o.instanceName ?? DEFAULT_INSTANCE_NAME;
  if (instanceNameToPid && instanceName === DEFAULT_INSTANCE_NAME) instanceName = String(process.pid);
  return {
    namesrvAddrs,
    instanceName,
    clientIP: o.clientIP ?? localAddress(),
    unitName: o.unitName,
    pollNameServerInterval: positive('pollNameServerInterval', o.pollNameServerInterval, 30_000),
    heartbeatBrokerInterval: positive('heartbeatBrokerInterval', o.heartbeatBrokerInterval, 30_000),
    persistConsumerOffsetInterval: positive(
      'persistConsumerOffsetInterval',
      o.persistConsumerOffsetInterval,
      5_000,
    ),
    pullTimeDelayMillsWhenException: positive(
      'pullTimeDelayMillsWhenException',
      o.pullTimeDelayMillsWhenException,
      1_000,
    ),
    mqClientApiTimeout: positive('mqClientApiTimeout', o.mqClientApiTimeout, 3_000),
    serializeType: o.serializeType === 'ROCKETMQ' ? SerializeType.ROCKETMQ : SerializeType.JSON,
  };
}

export function buildClientId(c: ClientConfig): string {
  return c.unitName ? `${c.clientIP}@${c.instanceName}@${c.unitName}` : `${c.clientIP}@${c.instanceName}`;
}

/** Upstream's group name rule (same characters and length as topics). */
export function checkGroupName(kind: string, group: string | undefined): string {
  if (!group || group.trim() === '') throw new RmqError(ErrorCode.ILLEGAL_ARGUMENT, `${kind} is blank`);
  if (!/^[%|a-zA-Z0-9_-]+$/.test(group)) {
    throw new RmqError(
      ErrorCode.ILLEGAL_ARGUMENT,
      `${kind} '${group}' contains illegal characters, allowing only ^[%|a-zA-Z0-9_-]+$`,
    );
  }
  if (group.length > 255) throw new RmqError(ErrorCode.ILLEGAL_ARGUMENT, `${kind} is longer than 255`);
  return group;
}
