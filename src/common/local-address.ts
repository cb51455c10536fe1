import { networkInterfaces } from 'node:os';

/**
 * The address upstream's RemotingUtil.getLocalAddress picks: the first non-loopback,
 * non-private-link IPv4 address, else any non-internal IPv4, else 127.0.0.1.
 */
export function localAddress(): string {
  const candidates: string[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const ni of list ?? []) {
      if (ni.family === 'IPv4' && !ni.internal) candidates.push(ni.address);
    }
  }
  return candidates.find((a) => !a.startsWith('169.254.')) ?? candidates[0] ?? '127.0.0.1';
}
