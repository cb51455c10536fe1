/**
 * Topic and consumer-group administration: UPDATE_AND_CREATE_TOPIC (17), DELETE_TOPIC_IN_BROKER
 * (215), GET_ALL_TOPIC_CONFIG (21), UPDATE_AND_CREATE_SUBSCRIPTIONGROUP (200),
 * DELETE_SUBSCRIPTIONGROUP (207), GET_ALL_SUBSCRIPTIONGROUP_CONFIG (201),
 * GET_SYSTEM_TOPIC_LIST_FROM_BROKER (305). Changes are refused on a slave, as upstream does.
 */
import { errorMessage } from '../../common/errors.js';
import { isSystemTopic, validateTopic } from '../../common/topic-validator.js';
import type { RemotingCommand } from '../../remoting/remoting-command.js';
import type { RequestHandler } from '../../remoting/dispatcher.js';
import { ResponseCode } from '../../protocol/response-code.js';
import {
  CreateTopicRequestHeader,
  DeleteSubscriptionGroupRequestHeader,
  TopicRequestHeader,
} from '../../protocol/broker-headers.js';
import { decodeHeader, failure, isErrorResponse, success } from '../../protocol/request-helpers.js';
import { PermName, newTopicConfig, topicConfigWrapperToJson } from '../../protocol/topic-config.js';
import { retryTopic } from '../../common/message/message-const.js';
import { encodeTopicList } from '../../protocol/route-data.js';
import {
  encodeSubscriptionGroupWrapper,
  parseBody,
  subscriptionGroupConfigFromJson,
} from '../../protocol/admin-bodies.js';
import { writeJson } from '../../protocol/fastjson.js';
import type { BrokerController } from '../broker-controller.js';

function refuseOnSlave(b: BrokerController, request: RemotingCommand): RemotingCommand | undefined {
  if (b.storeConfig.brokerRole !== 'SLAVE') return undefined;
  return failure(
    request,
    ResponseCode.SYSTEM_ERROR,
    "Can't modify topic or subscription group from slave broker, please execute it from master broker.",
  );
}

/** A user may only create or delete well-named topics that are not system topics. */
function refuseTopic(
  b: BrokerController,
  request: RemotingCommand,
  topic: string,
): RemotingCommand | undefined {
  const invalid = validateTopic(topic);
  if (invalid) return failure(request, ResponseCode.SYSTEM_ERROR, invalid);
  if (isSystemTopic(topic, b.topics.systemTopics)) {
    return failure(request, ResponseCode.SYSTEM_ERROR, `The topic[${topic}] is conflict with system topic.`);
  }
  return undefined;
}

export function adminTopicHandlers(
  b: BrokerController,
): Record<
  | 'createTopic'
  | 'deleteTopic'
  | 'allTopicConfig'
  | 'createGroup'
  | 'deleteGroup'
  | 'allGroupConfig'
  | 'systemTopics',
  RequestHandler
> {
  return {
    createTopic: (request, ctx) => {
      const refused = refuseOnSlave(b, request);
      if (refused) return refused;
      const h = decodeHeader(request, CreateTopicRequestHeader);
      if (isErrorResponse(h)) return h;
      const refusedTopic = refuseTopic(b, request, h.topic);
      if (refusedTopic) return refusedTopic;
      if (h.topicFilterType !== 'SINGLE_TAG' && h.topicFilterType !== 'MULTI_TAG') {
        return failure(
          request,
          ResponseCode.SYSTEM_ERROR,
          `topicFilterType '${h.topicFilterType}' is not SINGLE_TAG or MULTI_TAG`,
        );
      }
      if (
        h.readQueueNums < 0 ||
        h.writeQueueNums < 0 ||
        h.readQueueNums > 65535 ||
        h.writeQueueNums > 65535
      ) {
        return failure(request, ResponseCode.SYSTEM_ERROR, `queue numbers must be within [0, 65535]`);
      }
      b.log.info({ topic: h.topic, peer: ctx.channel.remoteAddress }, 'updateAndCreateTopic');
      b.topics.update(
        newTopicConfig(h.topic, {
          readQueueNums: h.readQueueNums,
          writeQueueNums: h.writeQueueNums,
          perm: h.perm,
          topicFilterType: h.topicFilterType,
          topicSysFlag: h.topicSysFlag ?? 0,
          order: h.order,
        }),
      );
      return success(request);
    },

    deleteTopic: async (request, ctx) => {
      const refused = refuseOnSlave(b, request);
      if (refused) return refused;
      const h = decodeHeader(request, TopicRequestHeader);
      if (isErrorResponse(h)) return h;
      const refusedTopic = refuseTopic(b, request, h.topic);
      if (refusedTopic) return refusedTopic;
      b.log.info({ topic: h.topic, peer: ctx.channel.remoteAddress }, 'deleteTopic');
      b.topics.delete(h.topic);
      b.offsets.removeTopic(h.topic);
      await b.store.deleteTopics([h.topic]);
      return success(request);
    },

    allTopicConfig: (request) =>
      success(request, {
        body: Buffer.from(writeJson(topicConfigWrapperToJson(b.topics.wrapper())), 'utf8'),
      }),

    createGroup: (request, ctx) => {
      const refused = refuseOnSlave(b, request);
      if (refused) return refused;
      let raw: Record<string, unknown>;
      try {
        raw = parseBody(request.body, 'SubscriptionGroupConfig');
      } catch (err) {
        return failure(request, ResponseCode.SYSTEM_ERROR, errorMessage(err));
      }
      const config = subscriptionGroupConfigFromJson(raw);
      if (!config.groupName)
        return failure(request, ResponseCode.SYSTEM_ERROR, 'SubscriptionGroupConfig has no groupName');
      b.log.info(
        { group: config.groupName, peer: ctx.channel.remoteAddress },
        'updateAndCreateSubscriptionGroup',
      );
      b.groups.update(config);
      // Upstream creates the retry topic on the group's first heartbeat, after its consumers first
      // asked for that topic's route; ali-ons reports that lookup as an error event and can fail
      // to start. A group created ahead of time gets its retry topic (and route) at once.
      if (config.retryQueueNums > 0) {
        b.topics.createIfAbsent(
          retryTopic(config.groupName),
          config.retryQueueNums,
          PermName.READ | PermName.WRITE,
        );
      }
      return success(request);
    },

    deleteGroup: (request, ctx) => {
      const refused = refuseOnSlave(b, request);
      if (refused) return refused;
      const h = decodeHeader(request, DeleteSubscriptionGroupRequestHeader);
      if (isErrorResponse(h)) return h;
      b.log.info({ group: h.groupName, peer: ctx.channel.remoteAddress }, 'deleteSubscriptionGroup');
      b.groups.delete(h.groupName);
      if (h.removeOffset) b.offsets.removeGroup(h.groupName);
      return success(request);
    },

    allGroupConfig: (request) =>
      success(request, {
        body: encodeSubscriptionGroupWrapper({
          subscriptionGroupTable: b.groups.all(),
          dataVersion: b.groups.dataVersion,
        }),
      }),

    systemTopics: (request) =>
      success(request, { body: encodeTopicList({ topicList: [...b.topics.systemTopics] }) }),
  };
}
