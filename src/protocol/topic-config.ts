/**
 * Topic metadata shared by broker and NameServer: TopicConfig, DataVersion, permissions,
 * and the TopicConfigSerializeWrapper JSON body (GET_ALL_TOPIC_CONFIG, REGISTER_BROKER).
 */
import { mapEntries } from './fastjson.js';

export const PermName = {
  PRIORITY: 8,
  READ: 4,
  WRITE: 2,
  INHERIT: 1,
} as const;

export function isReadable(perm: number): boolean {
  return (perm & PermName.READ) === PermName.READ;
}
export function isWriteable(perm: number): boolean {
  return (perm & PermName.WRITE) === PermName.WRITE;
}
export function isInherited(perm: number): boolean {
  return (perm & PermName.INHERIT) === PermName.INHERIT;
}
export function perm2String(perm: number): string {
  return `${isReadable(perm) ? 'R' : '-'}${isWriteable(perm) ? 'W' : '-'}${isInherited(perm) ? 'X' : '-'}`;
}

export type TopicFilterType = 'SINGLE_TAG' | 'MULTI_TAG';

/** TopicSysFlag bits (unit topics). */
export const TopicSysFlag = { UNIT: 0x1, UNIT_SUB: 0x2 } as const;

export interface TopicConfig {
  topicName: string;
  readQueueNums: number;
  writeQueueNums: number;
  perm: number;
  topicFilterType: TopicFilterType;
  topicSysFlag: number;
  order: boolean;
}

export function newTopicConfig(
  topicName: string,
  init: Partial<Omit<TopicConfig, 'topicName'>> = {},
): TopicConfig {
  return {
    topicName,
    readQueueNums: init.readQueueNums ?? 16,
    writeQueueNums: init.writeQueueNums ?? 16,
    perm: init.perm ?? PermName.READ | PermName.WRITE,
    topicFilterType: init.topicFilterType ?? 'SINGLE_TAG',
    topicSysFlag: init.topicSysFlag ?? 0,
    order: init.order ?? false,
  };
}

/** Reads a TopicConfig from parsed JSON, filling upstream defaults for absent fields. */
export function topicConfigFromJson(name: string, raw: unknown): TopicConfig {
  const o = (raw ?? {}) as Record<string, unknown>;
  const num = (v: unknown, d: number): number =>
    typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : d;
  return newTopicConfig(typeof o.topicName === 'string' ? o.topicName : name, {
    readQueueNums: num(o.readQueueNums, 16),
    writeQueueNums: num(o.writeQueueNums, 16),
    perm: num(o.perm, 6),
    topicFilterType: o.topicFilterType === 'MULTI_TAG' ? 'MULTI_TAG' : 'SINGLE_TAG',
    topicSysFlag: num(o.topicSysFlag, 0),
    order: o.order === true || o.order === 'true',
  });
}

/** The compact text form used inside compressed REGISTER_BROKER bodies: "name read write perm type". */
export function encodeTopicConfigText(tc: TopicConfig): string {
  return `${tc.topicName} ${tc.readQueueNums} ${tc.writeQueueNums} ${tc.perm} ${tc.topicFilterType}`;
}

export function decodeTopicConfigText(text: string): TopicConfig | undefined {
  const parts = text.split(' ');
  if (parts.length !== 5) return undefined;
  const [name, r, w, p, type] = parts as [string, string, string, string, string];
  if (type !== 'SINGLE_TAG' && type !== 'MULTI_TAG') return undefined;
  const nums = [r, w, p].map(Number);
  if (nums.some((n) => !Number.isInteger(n))) return undefined;
  return newTopicConfig(name, {
    readQueueNums: nums[0],
    writeQueueNums: nums[1],
    perm: nums[2],
    topicFilterType: type,
  });
}

export interface DataVersion {
  timestamp: number;
  counter: number;
}

export function newDataVersion(now = Date.now()): DataVersion {
  return { timestamp: now, counter: 0 };
}

export function nextDataVersion(dv: DataVersion, now = Date.now()): DataVersion {
  return { timestamp: now, counter: dv.counter + 1 };
}

export function dataVersionEquals(a: DataVersion | undefined, b: DataVersion | undefined): boolean {
  return !!a && !!b && a.timestamp === b.timestamp && a.counter === b.counter;
}

export function dataVersionFromJson(raw: unknown): DataVersion {
  const o = (raw ?? {}) as Record<string, unknown>;
  return { timestamp: Number(o.timestamp ?? 0) || 0, counter: Number(o.counter ?? 0) || 0 };
}

export interface TopicConfigSerializeWrapper {
  topicConfigTable: Map<string, TopicConfig>;
  dataVersion: DataVersion;
}

/** JSON shape of a TopicConfigSerializeWrapper (topicConfigTable as a string-keyed object). */
export function topicConfigWrapperToJson(w: TopicConfigSerializeWrapper): Record<string, unknown> {
  return { topicConfigTable: Object.fromEntries(w.topicConfigTable), dataVersion: w.dataVersion };
}

export function topicConfigWrapperFromJson(raw: unknown): TopicConfigSerializeWrapper {
  const o = (raw ?? {}) as Record<string, unknown>;
  const table = new Map<string, TopicConfig>();
  for (const [name, tc] of mapEntries(o.topicConfigTable)) table.set(name, topicConfigFromJson(name, tc));
  return { topicConfigTable: table, dataVersion: dataVersionFromJson(o.dataVersion) };
}
