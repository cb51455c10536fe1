import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getLogger } from '../../src/common/logger.js';
import { RequestDispatcher } from '../../src/remoting/dispatcher.js';
import { RequestCode, type RequestCodeName } from '../../src/protocol/request-code.js';
import { UNSUPPORTED } from '../../src/broker/register-processors.js';
import { startBroker } from '../helpers/broker.js';
import { testClient } from '../helpers/broker-calls.js';
import { createRequest } from '../../src/remoting/remoting-command.js';
import { ResponseCode } from '../../src/protocol/response-code.js';
import { registerBrokerProcessors } from '../../src/broker/register-processors.js';

test('every request code has a broker handler or an explicit "unsupported" entry, never both', async () => {
  const { broker } = await startBroker();
  const d = new RequestDispatcher(getLogger('test'));
  registerBrokerProcessors(d, broker);
  const missing: string[] = [];
  for (const [name, code] of Object.entries(RequestCode)) {
    const how = d.describe(code);
    if (how === 'unknown') missing.push(`${name} (${code})`);
    if (how === 'handled' && UNSUPPORTED[name as RequestCodeName]) {
      assert.fail(`${name} is both handled and listed as unsupported`);
    }
  }
  assert.deepEqual(missing, [], 'codes with neither a handler nor an unsupported entry');
});

test('an unsupported code answers REQUEST_CODE_NOT_SUPPORTED with the reason', async () => {
  const { addr } = await startBroker();
  const c = testClient();
  const res = await c.invoke(addr, createRequest(RequestCode.GET_ROUTEINFO_BY_TOPIC));
  assert.equal(res.code, ResponseCode.REQUEST_CODE_NOT_SUPPORTED);
  assert.match(res.remark!, /request type 105 not supported: a NameServer request/);
});
