import { homedir } from 'node:os';
import { join } from 'node:path';

/** `~` as upstream's `user.home`; ROCKETMQ_USER_HOME overrides it (tests, containers). */
export function userHome(): string {
  return process.env.ROCKETMQ_USER_HOME ?? homedir();
}

export function underHome(...parts: string[]): string {
  return join(userHome(), ...parts);
}
