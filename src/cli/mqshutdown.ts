/**
 * `mqshutdown namesrv|broker`: sends SIGTERM to the NameServers or brokers started on this
 * machine by our commands (found through their pid files), as upstream's script does with `kill`.
 */
import { findRunning, type ServerRole } from './pid-files.js';

const NAMES: Record<string, { role: ServerRole; label: string }> = {
  namesrv: { role: 'namesrv', label: 'mqnamesrv' },
  broker: { role: 'broker', label: 'mqbroker' },
};

export function main(argv: string[]): number {
  const what = argv[2];
  const target = what ? NAMES[what] : undefined;
  if (!target) {
    process.stdout.write('Useage: mqshutdown broker | namesrv\n');
    return 1;
  }
  const running = findRunning(target.role);
  if (running.length === 0) {
    process.stdout.write(`No ${target.label} running.\n`);
    return 1;
  }
  const pids = running.map((r) => r.pid).join(' ');
  process.stdout.write(`The ${target.label}(${pids}) is running...\n`);
  for (const r of running) {
    try {
      process.kill(r.pid, 'SIGTERM');
    } catch (err) {
      process.stderr.write(`cannot signal ${r.pid}: ${(err as Error).message}\n`);
    }
  }
  process.stdout.write(`Send shutdown request to ${target.label}(${pids}) OK\n`);
  return 0;
}
