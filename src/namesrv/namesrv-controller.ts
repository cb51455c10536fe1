/**
 * A NameServer: remoting server + route tables + KV store + the broker expiry scan.
 * Used by the `mqnamesrv` command and embedded by the standalone process and by tests.
 */
import { getLogger, type Logger } from '../common/logger.js';
import { Service } from '../common/service.js';
import { RemotingServer } from '../remoting/remoting-server.js';
import { RequestDispatcher } from '../remoting/dispatcher.js';
import type { NettyServerConfig } from '../remoting/netty-server-config.js';
import type { Channel } from '../remoting/channel.js';
import { RouteInfoManager } from './route-info-manager.js';
import { KVConfigManager } from './kv-config-manager.js';
import { registerNamesrvProcessors } from './namesrv-processor.js';
import type { NamesrvConfig, NamesrvConfigSchema } from './namesrv-config.js';

export interface NamesrvControllerOptions {
  namesrvConfig: NamesrvConfig;
  namesrvSchema: NamesrvConfigSchema;
  serverConfig: NettyServerConfig;
  /** Expiry of silent brokers, default 120 s; tests shorten it. */
  brokerChannelExpiredMs?: number;
  /** Period of the expiry scan, default 10 s (first run after 5 s). */
  scanIntervalMs?: number;
  log?: Logger;
}

class BrokerExpiryScan extends Service {
  constructor(
    private readonly routes: RouteInfoManager,
    intervalMs: number,
    log: Logger,
  ) {
    super('broker-expiry-scan', intervalMs, log);
  }

  protected onRun(): void {
    this.routes.scanNotActiveBroker((channel) => (channel as Channel).close());
  }
}

export class NamesrvController {
  readonly routes: RouteInfoManager;
  readonly kv: KVConfigManager;
  private readonly server: RemotingServer;
  private readonly scan: BrokerExpiryScan;
  private readonly log: Logger;
  private readonly scanIntervalMs: number;
  private stopped = false;

  constructor(private readonly options: NamesrvControllerOptions) {
    this.log = options.log ?? getLogger('namesrv');
    this.routes = new RouteInfoManager({
      log: this.log.child({ part: 'route-info' }),
      brokerChannelExpiredMs: options.brokerChannelExpiredMs,
    });
    this.kv = new KVConfigManager(options.namesrvConfig.kvConfigPath, this.log.child({ part: 'kv-config' }));
    const dispatcher = new RequestDispatcher(this.log);
    registerNamesrvProcessors(dispatcher, {
      routes: this.routes,
      kv: this.kv,
      log: this.log,
      isOrderMessageEnable: () => options.namesrvConfig.orderMessageEnable,
      configEntries: () => [
        ...options.namesrvSchema.entries(options.namesrvConfig),
        ...Object.entries(options.serverConfig).map(([k, v]): [string, string] => [k, String(v)]),
      ],
      updateConfig: (props) => this.updateConfig(props),
    });
    this.server = new RemotingServer({
      port: options.serverConfig.listenPort,
      host: options.serverConfig.bindAddress,
      dispatcher,
      log: this.log.child({ part: 'remoting' }),
      idleTimeoutMs: options.serverConfig.serverChannelMaxIdleTimeSeconds * 1000,
    });
    this.server.on('disconnect', (channel) => this.routes.onChannelDestroy(channel));
    this.scanIntervalMs = options.scanIntervalMs ?? 10_000;
    this.scan = new BrokerExpiryScan(this.routes, this.scanIntervalMs, this.log);
  }

  async start(): Promise<void> {
    this.kv.load();
    await this.server.start();
    this.scan.start(Math.min(5_000, this.scanIntervalMs));
    this.log.info({ port: this.server.port }, 'name server started');
  }

  get port(): number {
    return this.server.port;
  }

  /** Applies UPDATE_NAMESRV_CONFIG in memory; returns a refusal text for black-listed keys. */
  private updateConfig(props: Map<string, string>): string | undefined {
    const black = new Set(
      [
        'configBlackList',
        'configStorePath',
        'kvConfigPath',
        'rocketmqHome',
        ...this.options.namesrvConfig.configBlackList.split(';'),
      ]
        .map((s) => s.trim())
        .filter(Boolean),
    );
    for (const key of props.keys()) {
      if (black.has(key)) return `Can not update config in black list: ${key}`;
    }
    const unknown = this.options.namesrvSchema.apply(
      this.options.namesrvConfig,
      props,
      'UPDATE_NAMESRV_CONFIG',
    );
    if (unknown.length > 0) this.log.warn({ keys: unknown }, 'UPDATE_NAMESRV_CONFIG: unknown keys ignored');
    return undefined;
  }

  async shutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.scan.stop();
    await this.server.close();
    await this.kv.flush();
    this.log.info('name server stopped');
  }
}
