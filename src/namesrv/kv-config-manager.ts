/**
 * Namespaced key/value settings (PUT/GET/DELETE_KV_CONFIG, GET_KVLIST_BY_NAMESPACE), persisted to
 * kvConfigPath after every change as upstream's KVConfigSerializeWrapper:
 *   {"configTable":{"<namespace>":{"<key>":"<value>"}}}
 * Writes are atomic (tmp + rename, previous generation kept as .bak) and serialized, so the file
 * always holds some complete recent state.
 */
import { writeFileAtomic, loadWithBackupSync } from '../common/atomic-file.js';
import type { Logger } from '../common/logger.js';
import { mapEntries, parseJson, writeJson } from '../protocol/fastjson.js';
import { RmqError, ErrorCode, errorMessage } from '../common/errors.js';

export class KVConfigManager {
  private readonly table = new Map<string, Map<string, string>>();
  private persisting: Promise<void> = Promise.resolve();
  private dirty = false;

  constructor(
    private readonly path: string,
    private readonly log: Logger,
  ) {}

  /** Loads the file (or its .bak); a file that exists but cannot be parsed stops start-up. */
  load(): void {
    let loaded;
    try {
      loaded = loadWithBackupSync(this.path, (text) => parseJson(text));
    } catch (err) {
      throw new RmqError(ErrorCode.CONFIG_INVALID, `cannot load ${this.path}: ${errorMessage(err)}`, {
        cause: err,
      });
    }
    if (!loaded) return;
    const root = loaded.value as Record<string, unknown> | undefined;
    for (const [ns, kv] of mapEntries(root?.configTable)) {
      this.table.set(ns, new Map(mapEntries(kv).map(([k, v]) => [k, String(v)])));
    }
    this.log.info({ path: loaded.from, namespaces: this.table.size }, 'kv config loaded');
  }

  put(namespace: string, key: string, value: string): void {
    let ns = this.table.get(namespace);
    if (!ns) {
      ns = new Map();
      this.table.set(namespace, ns);
    }
    ns.set(key, value);
    this.log.info({ namespace, key, value }, 'kv config put');
    this.persist();
  }

  get(namespace: string, key: string): string | undefined {
    return this.table.get(namespace)?.get(key);
  }

  delete(namespace: string, key: string): void {
    const ns = this.table.get(namespace);
    if (!ns?.delete(key)) return;
    if (ns.size === 0) this.table.delete(namespace);
    this.log.info({ namespace, key }, 'kv config deleted');
    this.persist();
  }

  list(namespace: string): Map<string, string> | undefined {
    const ns = this.table.get(namespace);
    return ns && ns.size > 0 ? new Map(ns) : undefined;
  }

  private persist(): void {
    if (this.dirty) return;
    this.dirty = true;
    // Coalesce bursts of changes into one write after the one in progress.
    this.persisting = this.persisting.then(async () => {
      this.dirty = false;
      const configTable = new Map<string, Record<string, string>>();
      for (const [ns, kv] of this.table) configTable.set(ns, Object.fromEntries(kv));
      try {
        await writeFileAtomic(this.path, writeJson({ configTable }, { pretty: true }));
      } catch (err) {
        this.log.error({ err, path: this.path }, 'cannot persist kv config');
      }
    });
  }

  /** Resolves once every change so far is on disk. */
  flush(): Promise<void> {
    return this.persisting;
  }
}
