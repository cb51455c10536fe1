/** Custom headers of the NameServer's requests and responses (field names as upstream). */
import { defineHeader, optional, required } from './header.js';

export const RegisterBrokerRequestHeader = defineHeader('RegisterBrokerRequestHeader', {
  brokerName: required('string'),
  brokerAddr: required('string'),
  clusterName: required('string'),
  haServerAddr: required('string'),
  brokerId: required('long'),
  compressed: optional('bool'),
  bodyCrc32: optional('int'),
});

export const RegisterBrokerResponseHeader = defineHeader('RegisterBrokerResponseHeader', {
  haServerAddr: optional('string'),
  masterAddr: optional('string'),
});

export const UnRegisterBrokerRequestHeader = defineHeader('UnRegisterBrokerRequestHeader', {
  brokerName: required('string'),
  brokerAddr: required('string'),
  clusterName: required('string'),
  brokerId: required('long'),
});

export const GetRouteInfoRequestHeader = defineHeader('GetRouteInfoRequestHeader', {
  topic: required('string'),
  acceptStandardJsonOnly: optional('bool'),
});

export const PutKVConfigRequestHeader = defineHeader('PutKVConfigRequestHeader', {
  namespace: required('string'),
  key: required('string'),
  value: required('string'),
});

export const GetKVConfigRequestHeader = defineHeader('GetKVConfigRequestHeader', {
  namespace: required('string'),
  key: required('string'),
});

export const GetKVConfigResponseHeader = defineHeader('GetKVConfigResponseHeader', {
  value: optional('string'),
});

export const DeleteKVConfigRequestHeader = defineHeader('DeleteKVConfigRequestHeader', {
  namespace: required('string'),
  key: required('string'),
});

export const GetKVListByNamespaceRequestHeader = defineHeader('GetKVListByNamespaceRequestHeader', {
  namespace: required('string'),
});

export const DeleteTopicFromNamesrvRequestHeader = defineHeader('DeleteTopicFromNamesrvRequestHeader', {
  topic: required('string'),
  clusterName: optional('string'),
});

export const GetTopicsByClusterRequestHeader = defineHeader('GetTopicsByClusterRequestHeader', {
  cluster: required('string'),
});

export const WipeWritePermOfBrokerRequestHeader = defineHeader('WipeWritePermOfBrokerRequestHeader', {
  brokerName: required('string'),
});

export const WipeWritePermOfBrokerResponseHeader = defineHeader('WipeWritePermOfBrokerResponseHeader', {
  wipeTopicCount: required('int'),
});

export const AddWritePermOfBrokerRequestHeader = defineHeader('AddWritePermOfBrokerRequestHeader', {
  brokerName: required('string'),
});

export const AddWritePermOfBrokerResponseHeader = defineHeader('AddWritePermOfBrokerResponseHeader', {
  addTopicCount: required('int'),
});

export const QueryDataVersionRequestHeader = defineHeader('QueryDataVersionRequestHeader', {
  brokerName: required('string'),
  brokerAddr: required('string'),
  clusterName: required('string'),
  brokerId: required('long'),
});

export const QueryDataVersionResponseHeader = defineHeader('QueryDataVersionResponseHeader', {
  changed: required('bool'),
});
