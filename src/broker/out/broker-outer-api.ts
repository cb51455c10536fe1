/**
 * The broker's calls to NameServers: REGISTER_BROKER to every NameServer (in parallel; one
 * failing does not stop the others) and UNREGISTER_BROKER at a clean shutdown.
 */
import { crc32 } from 'node:zlib';
import type { Logger } from '../../common/logger.js';
import { errorMessage } from '../../common/errors.js';
import type { RemotingClient } from '../../remoting/remoting-client.js';
import { createRequest } from '../../remoting/remoting-command.js';
import { RequestCode } from '../../protocol/request-code.js';
import { ResponseCode } from '../../protocol/response-code.js';
import * as H from '../../protocol/namesrv-headers.js';
import { decodeKVTable, encodeRegisterBrokerBody } from '../../protocol/route-data.js';
import type { TopicConfigSerializeWrapper } from '../../protocol/topic-config.js';

export interface BrokerIdentity {
  clusterName: string;
  brokerName: string;
  brokerAddr: string;
  haServerAddr: string;
  brokerId: number;
}

export interface RegisterResult {
  namesrv: string;
  ok: boolean;
  masterAddr?: string | undefined;
  haServerAddr?: string | undefined;
  /** ORDER_TOPIC_CONFIG from the NameServer: ordered topics. */
  orderTopics?: Set<string>;
  error?: string;
}

export function parseNamesrvAddrs(list: string): string[] {
  return list
    .split(';')
    .map((s) => s.trim())
    .filter(Boolean);
}

export class BrokerOuterAPI {
  constructor(
    private readonly client: RemotingClient,
    private readonly log: Logger,
  ) {}

  async registerBrokerAll(
    namesrvs: string[],
    who: BrokerIdentity,
    topics: TopicConfigSerializeWrapper,
    compressed: boolean,
    timeoutMs: number,
  ): Promise<RegisterResult[]> {
    const body = encodeRegisterBrokerBody(
      { topicConfigSerializeWrapper: topics, filterServerList: [] },
      compressed,
    );
    const extFields = H.RegisterBrokerRequestHeader.encode({
      ...who,
      compressed,
      bodyCrc32: crc32(body) & 0x7fffffff,
    });
    return Promise.all(
      namesrvs.map(async (namesrv): Promise<RegisterResult> => {
        try {
          const res = await this.client.invoke(
            namesrv,
            createRequest(RequestCode.REGISTER_BROKER, { extFields, body }),
            timeoutMs,
          );
          if (res.code !== ResponseCode.SUCCESS) {
            this.log.warn({ namesrv, code: res.code, remark: res.remark }, 'register broker refused');
            return { namesrv, ok: false, error: res.remark ?? `code ${res.code}` };
          }
          const orderTopics =
            res.body && res.body.length > 0 ? new Set(decodeKVTable(res.body).keys()) : new Set<string>();
          return {
            namesrv,
            ok: true,
            masterAddr: res.extFields?.masterAddr,
            haServerAddr: res.extFields?.haServerAddr,
            orderTopics,
          };
        } catch (err) {
          this.log.warn({ namesrv, err: errorMessage(err) }, 'register broker failed');
          return { namesrv, ok: false, error: errorMessage(err) };
        }
      }),
    );
  }

  async unregisterBrokerAll(namesrvs: string[], who: BrokerIdentity, timeoutMs: number): Promise<void> {
    const extFields = H.UnRegisterBrokerRequestHeader.encode({
      brokerName: who.brokerName,
      brokerAddr: who.brokerAddr,
      clusterName: who.clusterName,
      brokerId: who.brokerId,
    });
    await Promise.all(
      namesrvs.map(async (namesrv) => {
        try {
          await this.client.invoke(
            namesrv,
            createRequest(RequestCode.UNREGISTER_BROKER, { extFields }),
            timeoutMs,
          );
        } catch (err) {
          this.log.warn({ namesrv, err: errorMessage(err) }, 'unregister broker failed');
        }
      }),
    );
  }
}
