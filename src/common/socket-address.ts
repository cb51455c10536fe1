/**
 * Socket addresses in the byte forms RocketMQ stores (BORNHOST/STOREHOST, message ids):
 * IPv4 = 4 address bytes + int32 port (8 bytes); IPv6 = 16 bytes + int32 port (20 bytes).
 * Node reports IPv4 peers on dual-stack sockets as `::ffff:a.b.c.d`; those are stored as IPv4,
 * because ali-ons can only decode 4-byte hosts.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { RmqError, ErrorCode } from './errors.js';

export interface SocketAddr {
  host: string;
  port: number;
}

export function normalizeHost(host: string): string {
  if (host.startsWith('::ffff:') && isIPv4(host.slice(7))) return host.slice(7);
  return host;
}

export function isV6Host(host: string): boolean {
  return isIPv6(normalizeHost(host));
}

function ipv4Bytes(host: string, out: Buffer, pos: number): void {
  const parts = host.split('.');
  for (let i = 0; i < 4; i++) out[pos + i] = Number(parts[i]);
}

function ipv6Bytes(host: string, out: Buffer, pos: number): void {
  let h = host;
  const zone = h.indexOf('%');
  if (zone >= 0) h = h.slice(0, zone);
  // An embedded dotted IPv4 tail (e.g. ::ffff:1.2.3.4 kept as v6) becomes two hextets.
  const lastColon = h.lastIndexOf(':');
  const tail = h.slice(lastColon + 1);
  if (isIPv4(tail)) {
    const b = tail.split('.').map(Number);
    h = `${h.slice(0, lastColon + 1)}${((b[0]! << 8) | b[1]!).toString(16)}:${((b[2]! << 8) | b[3]!).toString(16)}`;
  }
  const [head, rest] = h.split('::') as [string, string | undefined];
  const headParts = head === '' ? [] : head.split(':');
  const restParts = rest === undefined || rest === '' ? [] : rest.split(':');
  const zeros = 8 - headParts.length - restParts.length;
  const all = [...headParts, ...new Array<string>(rest === undefined ? 0 : zeros).fill('0'), ...restParts];
  for (let i = 0; i < 8; i++) out.writeUInt16BE(parseInt(all[i] ?? '0', 16), pos + i * 2);
}

/** Encoded length of an address: 8 (IPv4) or 20 (IPv6). */
export function socketAddrLength(addr: SocketAddr): 8 | 20 {
  return isV6Host(addr.host) ? 20 : 8;
}

export function encodeSocketAddr(addr: SocketAddr): Buffer {
  const host = normalizeHost(addr.host);
  if (isIPv4(host)) {
    const out = Buffer.allocUnsafe(8);
    ipv4Bytes(host, out, 0);
    out.writeInt32BE(addr.port, 4);
    return out;
  }
  if (isIPv6(host)) {
    const out = Buffer.allocUnsafe(20);
    ipv6Bytes(host, out, 0);
    out.writeInt32BE(addr.port, 16);
    return out;
  }
  throw new RmqError(ErrorCode.ILLEGAL_ARGUMENT, `not an IP address: ${addr.host}`);
}

/** The last IPv4 address decoded, as bytes and text: records of one pull share a few hosts. */
let lastV4 = -1;
let lastV4Host = '';

export function decodeSocketAddr(buf: Buffer, pos: number, v6: boolean): SocketAddr {
  if (!v6) {
    const key = buf.readUInt32BE(pos);
    if (key !== lastV4) {
      lastV4 = key;
      lastV4Host = `${buf[pos]}.${buf[pos + 1]}.${buf[pos + 2]}.${buf[pos + 3]}`;
    }
    return { host: lastV4Host, port: buf.readInt32BE(pos + 4) };
  }
  const parts: string[] = [];
  for (let i = 0; i < 8; i++) parts.push(buf.readUInt16BE(pos + i * 2).toString(16));
  return { host: parts.join(':'), port: buf.readInt32BE(pos + 16) };
}

/** `host:port`, with IPv6 hosts bracketed. */
export function formatSocketAddr(addr: SocketAddr): string {
  const host = normalizeHost(addr.host);
  return isIPv6(host) ? `[${host}]:${addr.port}` : `${host}:${addr.port}`;
}

/** Parses `host:port` or `[v6]:port`. */
export function parseSocketAddr(text: string): SocketAddr {
  const s = text.trim();
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(s) ?? /^([^:]+):(\d+)$/.exec(s);
  if (!m) throw new RmqError(ErrorCode.ILLEGAL_ARGUMENT, `bad address '${text}', expected host:port`);
  const port = Number(m[2]);
  if (port > 65535) throw new RmqError(ErrorCode.ILLEGAL_ARGUMENT, `bad port in address '${text}'`);
  return { host: m[1]!, port };
}
