/**
 * Shared start-up config handling of the server commands: read `-c` as a Java .properties file,
 * apply it to each schema, log unknown keys once, and turn a bad value into one clear line naming
 * the key and the file.
 */
import { readPropertiesFile } from '../common/config/properties-file.js';
import { applyToAll, type SchemaLike } from '../common/config/config-schema.js';
import { RmqError } from '../common/errors.js';
import type { Logger } from '../common/logger.js';

export function applyConfigFile(
  file: string | undefined,
  targets: readonly [SchemaLike, object][],
  log: Logger,
  extra: Map<string, string> = new Map(),
): void {
  const props = file ? readPropertiesFile(file) : new Map<string, string>();
  for (const [k, v] of extra) props.set(k, v);
  const unknown = applyToAll(props, file ?? 'command line', targets);
  if (unknown.length > 0) {
    log.warn({ file, keys: unknown }, `unknown config keys ignored: ${unknown.join(', ')}`);
  }
}

/** Prints a start-up failure for humans and exits; RmqErrors already name key and file. */
export function exitOnStartupError(err: unknown, command: string): never {
  const text =
    err instanceof RmqError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err);
  process.stderr.write(`${command}: ${text}\n`);
  process.exit(1);
}
