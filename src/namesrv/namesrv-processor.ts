/**
 * Request handlers of the NameServer (upstream's DefaultRequestProcessor), registered into the
 * server's dispatcher. Each handler decodes its header strictly: a missing or malformed field
 * answers SYSTEM_ERROR naming the field.
 */
import { crc32 } from 'node:zlib';
import type { Logger } from '../common/logger.js';
import { errorMessage } from '../common/errors.js';
import { formatProperties, parseProperties, propertiesToMap } from '../common/config/properties-file.js';
import { createResponse } from '../remoting/remoting-command.js';
import type { RequestDispatcher, RequestHandler } from '../remoting/dispatcher.js';
import { RequestCode } from '../protocol/request-code.js';
import { ResponseCode } from '../protocol/response-code.js';
import { decodeHeader, isErrorResponse, success as ok } from '../protocol/request-helpers.js';
import * as H from '../protocol/namesrv-headers.js';
import {
  decodeRegisterBrokerBody,
  encodeClusterInfo,
  encodeKVTable,
  encodeTopicList,
  encodeTopicRouteData,
} from '../protocol/route-data.js';
import { dataVersionFromJson } from '../protocol/topic-config.js';
import { parseJson, writeJson } from '../protocol/fastjson.js';
import { hasUnitSub, isUnitTopic, type RouteInfoManager } from './route-info-manager.js';
import type { KVConfigManager } from './kv-config-manager.js';

/** MQVersion ordinals that change NameServer answers. */
const V3_0_11 = 37;
const V4_9_4 = 401;
export const NAMESPACE_ORDER_TOPIC_CONFIG = 'ORDER_TOPIC_CONFIG';
const APPLY_TOPIC_URL = '\nSee http://rocketmq.apache.org/docs/faq/ for further details.';

export interface NamesrvProcessorDeps {
  routes: RouteInfoManager;
  kv: KVConfigManager;
  log: Logger;
  isOrderMessageEnable: () => boolean;
  /** Current config as key/value pairs, and a way to change the ones allowed to change. */
  configEntries: () => [string, string][];
  updateConfig: (props: Map<string, string>) => string | undefined;
}

export function registerNamesrvProcessors(dispatcher: RequestDispatcher, deps: NamesrvProcessorDeps): void {
  const { routes, kv, log } = deps;

  const putKV: RequestHandler = (req) => {
    const h = decodeHeader(req, H.PutKVConfigRequestHeader);
    if (isErrorResponse(h)) return h;
    kv.put(h.namespace, h.key, h.value);
    return ok(req);
  };

  const getKV: RequestHandler = (req) => {
    const h = decodeHeader(req, H.GetKVConfigRequestHeader);
    if (isErrorResponse(h)) return h;
    const value = kv.get(h.namespace, h.key);
    if (value === undefined) {
      return createResponse(req, ResponseCode.QUERY_NOT_FOUND, {
        remark: `No config item, Namespace: ${h.namespace} Key: ${h.key}`,
      });
    }
    return ok(req, { extFields: H.GetKVConfigResponseHeader.encode({ value }) });
  };

  const deleteKV: RequestHandler = (req) => {
    const h = decodeHeader(req, H.DeleteKVConfigRequestHeader);
    if (isErrorResponse(h)) return h;
    kv.delete(h.namespace, h.key);
    return ok(req);
  };

  const registerBroker: RequestHandler = (req, ctx) => {
    const h = decodeHeader(req, H.RegisterBrokerRequestHeader);
    if (isErrorResponse(h)) return h;
    if (h.bodyCrc32 && req.body) {
      const crc = crc32(req.body) & 0x7fffffff;
      if (crc !== h.bodyCrc32) {
        log.warn({ peer: ctx.channel.remoteAddress }, 'REGISTER_BROKER body crc32 does not match');
        return createResponse(req, ResponseCode.SYSTEM_ERROR, { remark: 'crc32 not match' });
      }
    }
    let body;
    try {
      body = decodeRegisterBrokerBody(req.body, h.compressed ?? false, req.version < V3_0_11);
    } catch (err) {
      return createResponse(req, ResponseCode.SYSTEM_ERROR, {
        remark: `Failed to decode RegisterBrokerBody: ${errorMessage(err)}`,
      });
    }
    const result = routes.registerBroker({
      clusterName: h.clusterName,
      brokerAddr: h.brokerAddr,
      brokerName: h.brokerName,
      brokerId: h.brokerId,
      haServerAddr: h.haServerAddr,
      topicConfigWrapper: body.topicConfigSerializeWrapper,
      filterServerList: body.filterServerList,
      channel: ctx.channel,
    });
    const orderConf = kv.list(NAMESPACE_ORDER_TOPIC_CONFIG);
    return ok(req, {
      extFields: H.RegisterBrokerResponseHeader.encode(result),
      body: orderConf ? encodeKVTable(orderConf) : undefined,
    });
  };

  const unregisterBroker: RequestHandler = (req) => {
    const h = decodeHeader(req, H.UnRegisterBrokerRequestHeader);
    if (isErrorResponse(h)) return h;
    routes.unregisterBroker(h.clusterName, h.brokerAddr, h.brokerName, h.brokerId);
    return ok(req);
  };

  const queryDataVersion: RequestHandler = (req) => {
    const h = decodeHeader(req, H.QueryDataVersionRequestHeader);
    if (isErrorResponse(h)) return h;
    let dv;
    try {
      dv = dataVersionFromJson(parseJson(req.body?.toString('utf8') ?? '{}'));
    } catch (err) {
      return createResponse(req, ResponseCode.SYSTEM_ERROR, {
        remark: `bad DataVersion body: ${errorMessage(err)}`,
      });
    }
    const changed = routes.isBrokerTopicConfigChanged(h.brokerAddr, dv);
    if (!changed) routes.touchBroker(h.brokerAddr);
    const current = routes.queryBrokerTopicConfig(h.brokerAddr);
    return ok(req, {
      extFields: H.QueryDataVersionResponseHeader.encode({ changed }),
      body: current ? Buffer.from(writeJson(current)) : undefined,
    });
  };

  const getRouteInfo: RequestHandler = (req) => {
    const h = decodeHeader(req, H.GetRouteInfoRequestHeader);
    if (isErrorResponse(h)) return h;
    const route = routes.pickupTopicRouteData(h.topic);
    if (!route) {
      return createResponse(req, ResponseCode.TOPIC_NOT_EXIST, {
        remark: `No topic route info in name server for the topic: ${h.topic}${APPLY_TOPIC_URL}`,
      });
    }
    if (deps.isOrderMessageEnable()) route.orderTopicConf = kv.get(NAMESPACE_ORDER_TOPIC_CONFIG, h.topic);
    const standard = req.version >= V4_9_4 || h.acceptStandardJsonOnly === true;
    return ok(req, { body: encodeTopicRouteData(route, standard) });
  };

  const topicList = (list: string[], brokerAddr?: string): Buffer =>
    encodeTopicList({ topicList: list, brokerAddr });

  const wipeOrAdd =
    (wipe: boolean): RequestHandler =>
    (req) => {
      const h = decodeHeader(
        req,
        wipe ? H.WipeWritePermOfBrokerRequestHeader : H.AddWritePermOfBrokerRequestHeader,
      );
      if (isErrorResponse(h)) return h;
      const count = routes.operateWritePerm(h.brokerName, wipe);
      log.info({ brokerName: h.brokerName, topics: count }, wipe ? 'wiped write perm' : 'added write perm');
      return ok(req, {
        extFields: wipe
          ? H.WipeWritePermOfBrokerResponseHeader.encode({ wipeTopicCount: count })
          : H.AddWritePermOfBrokerResponseHeader.encode({ addTopicCount: count }),
      });
    };

  dispatcher
    .register(RequestCode.PUT_KV_CONFIG, putKV)
    .register(RequestCode.GET_KV_CONFIG, getKV)
    .register(RequestCode.DELETE_KV_CONFIG, deleteKV)
    .register(RequestCode.QUERY_DATA_VERSION, queryDataVersion)
    .register(RequestCode.REGISTER_BROKER, registerBroker)
    .register(RequestCode.UNREGISTER_BROKER, unregisterBroker)
    .register(RequestCode.GET_ROUTEINFO_BY_TOPIC, getRouteInfo)
    .register(RequestCode.GET_BROKER_CLUSTER_INFO, (req) =>
      ok(req, { body: encodeClusterInfo(routes.getAllClusterInfo()) }),
    )
    .register(RequestCode.WIPE_WRITE_PERM_OF_BROKER, wipeOrAdd(true))
    .register(RequestCode.ADD_WRITE_PERM_OF_BROKER, wipeOrAdd(false))
    .register(RequestCode.GET_ALL_TOPIC_LIST_FROM_NAMESERVER, (req) =>
      ok(req, { body: topicList(routes.getAllTopicList()) }),
    )
    .register(RequestCode.DELETE_TOPIC_IN_NAMESRV, (req) => {
      const h = decodeHeader(req, H.DeleteTopicFromNamesrvRequestHeader);
      if (isErrorResponse(h)) return h;
      routes.deleteTopic(h.topic, h.clusterName);
      return ok(req);
    })
    .register(RequestCode.GET_KVLIST_BY_NAMESPACE, (req) => {
      const h = decodeHeader(req, H.GetKVListByNamespaceRequestHeader);
      if (isErrorResponse(h)) return h;
      const table = kv.list(h.namespace);
      if (!table) {
        return createResponse(req, ResponseCode.QUERY_NOT_FOUND, {
          remark: `No config item, Namespace: ${h.namespace}`,
        });
      }
      return ok(req, { body: encodeKVTable(table) });
    })
    .register(RequestCode.GET_TOPICS_BY_CLUSTER, (req) => {
      const h = decodeHeader(req, H.GetTopicsByClusterRequestHeader);
      if (isErrorResponse(h)) return h;
      return ok(req, { body: topicList(routes.getTopicsByCluster(h.cluster)) });
    })
    .register(RequestCode.GET_SYSTEM_TOPIC_LIST_FROM_NS, (req) => {
      const sys = routes.getSystemTopicList();
      return ok(req, { body: topicList(sys.topicList, sys.brokerAddr) });
    })
    .register(RequestCode.GET_UNIT_TOPIC_LIST, (req) =>
      ok(req, { body: topicList(routes.topicsWhere(isUnitTopic)) }),
    )
    .register(RequestCode.GET_HAS_UNIT_SUB_TOPIC_LIST, (req) =>
      ok(req, { body: topicList(routes.topicsWhere(hasUnitSub)) }),
    )
    .register(RequestCode.GET_HAS_UNIT_SUB_UNUNIT_TOPIC_LIST, (req) =>
      ok(req, { body: topicList(routes.topicsWhere((qd) => !isUnitTopic(qd) && hasUnitSub(qd))) }),
    )
    .register(RequestCode.UPDATE_NAMESRV_CONFIG, (req) => {
      if (!req.body || req.body.length === 0) return ok(req);
      const props = propertiesToMap(parseProperties(req.body.toString('utf8')));
      const refusal = deps.updateConfig(props);
      if (refusal) return createResponse(req, ResponseCode.NO_PERMISSION, { remark: refusal });
      return ok(req);
    })
    .register(RequestCode.GET_NAMESRV_CONFIG, (req) =>
      ok(req, { body: Buffer.from(formatProperties(deps.configEntries()), 'utf8') }),
    );
}
