/** What the benchmark tools put in messages, and how they classify failures. */
import { randomInt } from 'node:crypto';
import { RmqError, ErrorCode } from '../../index.js';

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A random alphanumeric string of `n` characters (upstream's message bodies). */
export function alphanumeric(n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += ALPHANUMERIC[randomInt(ALPHANUMERIC.length)];
  return s;
}

/**
 * User properties adding up to just over `size` characters of names and values, in pairs
 * `propN=helloV`, `propN+1=V` as upstream's tool makes them.
 */
export function userProperties(size: number): [string, string][] {
  const out: [string, string][] = [];
  let v = randomInt(100);
  let total = 0;
  for (let i = 0; total <= size; i += 2, v += 2) {
    const pair: [string, string][] = [
      [`prop${i}`, `hello${v}`],
      [`prop${i + 1}`, String(v)],
    ];
    for (const [k, val] of pair) {
      out.push([k, val]);
      total += k.length + val.length;
    }
  }
  return out;
}

/**
 * Upstream counts a broker's error answer as a "response failed" (MQBrokerException) and anything
 * else (transport, client checks) as a "send failed".
 */
export function isBrokerFailure(err: unknown): boolean {
  return (
    err instanceof RmqError && (err.code === ErrorCode.BROKER_RESPONSE || err.responseCode !== undefined)
  );
}
