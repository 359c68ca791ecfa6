import { EJSON, Int32, ObjectId, type Document } from 'bson';
import {
  checkExpectedError,
  checkExpectedEvents,
  checkExpectedLogMessages,
  isRedactedFailure,
  matchEvent,
  type ExpectedError,
  type ObservedError,
  type ObservedEvent,
  type ObservedLogMessage
} from '../../spec-tests/unified/expectations';

const ej = <T = Document>(text: string): T => EJSON.parse(text, { relaxed: false }) as T;

const insertStarted: ObservedEvent = {
  kind: 'commandStartedEvent',
  commandName: 'insert',
  databaseName: 'database0Name',
  command: { insert: 'coll0', documents: [{ _id: new Int32(1) }], ordered: true, lsid: { id: 'x' }, $db: 'database0Name' },
  serverConnectionId: new Int32(12)
};
const insertSucceeded: ObservedEvent = {
  kind: 'commandSucceededEvent',
  commandName: 'insert',
  databaseName: 'database0Name',
  reply: { ok: 1, n: new Int32(1) }
};
const connectionReady: ObservedEvent = { kind: 'connectionReadyEvent' };
const checkedOut: ObservedEvent = { kind: 'connectionCheckedOutEvent' };

describe('expectEvents: command events', () => {
  it('matches command, commandName and databaseName, with the command as a root document', () => {
    const expected = ej<Document[]>(
      '[{"commandStartedEvent": {"command": {"insert": "coll0", "documents": [{"_id": 1}]}, "commandName": "insert", "databaseName": "database0Name"}}]'
    );
    const r = checkExpectedEvents({ client: 'client0', events: expected }, [insertStarted, connectionReady]);
    expect(r.ok).toBe(true);
  });

  it('defaults eventType to command and ignores events of other types', () => {
    const r = checkExpectedEvents({ client: 'client0', events: [{ commandStartedEvent: { commandName: 'insert' } }] }, [
      connectionReady,
      insertStarted,
      checkedOut
    ]);
    expect(r.ok).toBe(true);
  });

  it('reports a wrong commandName with its path', () => {
    const r = checkExpectedEvents({ client: 'client0', events: [{ commandStartedEvent: { commandName: 'find' } }] }, [insertStarted]);
    expect(r).toMatchObject({ ok: false, path: 'events[0].commandStartedEvent.commandName' });
  });

  it('reports a command mismatch inside the command document', () => {
    const r = checkExpectedEvents(
      { client: 'client0', events: ej('[{"commandStartedEvent": {"command": {"insert": "coll1"}}}]') },
      [insertStarted]
    );
    expect(r).toMatchObject({ ok: false, path: 'events[0].commandStartedEvent.command.insert' });
  });

  it('matches the reply of a succeeded event as a root document', () => {
    const events = ej<Document[]>('[{"commandStartedEvent": {}}, {"commandSucceededEvent": {"reply": {"ok": 1}, "commandName": "insert"}}]');
    expect(checkExpectedEvents({ client: 'c', events }, [insertStarted, insertSucceeded]).ok).toBe(true);
  });

  it('requires the same event kind in the same order', () => {
    const events = [{ commandSucceededEvent: {} }, { commandStartedEvent: {} }];
    const r = checkExpectedEvents({ client: 'c', events }, [insertStarted, insertSucceeded]);
    expect(r).toMatchObject({ ok: false, path: 'events[0]' });
  });

  it('fails on extra observed events unless ignoreExtraEvents is true', () => {
    const events = [{ commandStartedEvent: { commandName: 'insert' } }];
    expect(checkExpectedEvents({ client: 'c', events }, [insertStarted, insertSucceeded]).ok).toBe(false);
    expect(checkExpectedEvents({ client: 'c', events, ignoreExtraEvents: true }, [insertStarted, insertSucceeded]).ok).toBe(true);
  });

  it('fails on missing events even with ignoreExtraEvents', () => {
    const events = [{ commandStartedEvent: {} }, { commandSucceededEvent: {} }];
    const r = checkExpectedEvents({ client: 'c', events, ignoreExtraEvents: true }, [insertStarted]);
    expect(r).toMatchObject({ ok: false, path: 'events[1]' });
  });

  it('an empty list asserts that no events of that type were observed', () => {
    expect(checkExpectedEvents({ client: 'c', events: [] }, [connectionReady]).ok).toBe(true);
    expect(checkExpectedEvents({ client: 'c', events: [] }, [insertStarted]).ok).toBe(false);
  });

  it('checks hasServiceId: a non-empty ObjectId', () => {
    const withService: ObservedEvent = { ...insertStarted, serviceId: new ObjectId() };
    const emptyService: ObservedEvent = { ...insertStarted, serviceId: new ObjectId('000000000000000000000000') };
    expect(matchEvent({ commandStartedEvent: { hasServiceId: true } }, withService).ok).toBe(true);
    expect(matchEvent({ commandStartedEvent: { hasServiceId: true } }, emptyService).ok).toBe(false);
    expect(matchEvent({ commandStartedEvent: { hasServiceId: false } }, emptyService).ok).toBe(true);
    expect(matchEvent({ commandStartedEvent: { hasServiceId: false } }, insertStarted).ok).toBe(true);
    expect(matchEvent({ commandStartedEvent: { hasServiceId: true } }, insertStarted).ok).toBe(false);
  });

  it('checks hasServerConnectionId: a positive Int32', () => {
    expect(matchEvent({ commandStartedEvent: { hasServerConnectionId: true } }, insertStarted).ok).toBe(true);
    expect(matchEvent({ commandStartedEvent: { hasServerConnectionId: false } }, insertStarted).ok).toBe(false);
    const unset: ObservedEvent = { ...insertStarted, serverConnectionId: undefined };
    const nonPositive: ObservedEvent = { ...insertStarted, serverConnectionId: -1 };
    expect(matchEvent({ commandStartedEvent: { hasServerConnectionId: false } }, unset).ok).toBe(true);
    expect(matchEvent({ commandStartedEvent: { hasServerConnectionId: false } }, nonPositive).ok).toBe(true);
    expect(matchEvent({ commandStartedEvent: { hasServerConnectionId: true } }, unset).ok).toBe(false);
  });

  it('checks commandFailedEvent fields', () => {
    const failed: ObservedEvent = { kind: 'commandFailedEvent', commandName: 'find', databaseName: 'db' };
    expect(matchEvent({ commandFailedEvent: { commandName: 'find', databaseName: 'db' } }, failed).ok).toBe(true);
    expect(matchEvent({ commandFailedEvent: { databaseName: 'other' } }, failed).ok).toBe(false);
  });

  it('rejects an event type that does not belong to eventType', () => {
    const r = checkExpectedEvents({ client: 'c', eventType: 'cmap', events: [{ commandStartedEvent: {} }] }, [insertStarted]);
    expect(r.message).toMatch(/not a cmap event/);
  });
});

describe('expectEvents: cmap events', () => {
  it('matches cmap events in order (entity-client-cmap-events.json)', () => {
    const events = [{ connectionReadyEvent: {} }, { connectionCheckedOutEvent: {} }, { connectionCheckedInEvent: {} }];
    const observed: ObservedEvent[] = [connectionReady, insertStarted, checkedOut, { kind: 'connectionCheckedInEvent' }];
    expect(checkExpectedEvents({ client: 'c', eventType: 'cmap', events }, observed).ok).toBe(true);
  });

  it('checks poolClearedEvent hasServiceId and interruptInUseConnections', () => {
    const cleared: ObservedEvent = { kind: 'poolClearedEvent', interruptInUseConnections: true };
    expect(matchEvent({ poolClearedEvent: { interruptInUseConnections: true, hasServiceId: false } }, cleared).ok).toBe(true);
    expect(matchEvent({ poolClearedEvent: { interruptInUseConnections: false } }, cleared).ok).toBe(false);
    expect(matchEvent({ poolClearedEvent: { interruptInUseConnections: false } }, { kind: 'poolClearedEvent' }).ok).toBe(false);
    expect(matchEvent({ poolClearedEvent: { hasServiceId: true } }, { kind: 'poolClearedEvent', serviceId: new ObjectId() }).ok).toBe(true);
  });

  it('checks the reason of connectionClosedEvent and connectionCheckOutFailedEvent', () => {
    expect(matchEvent({ connectionClosedEvent: { reason: 'stale' } }, { kind: 'connectionClosedEvent', reason: 'stale' }).ok).toBe(true);
    expect(matchEvent({ connectionClosedEvent: { reason: 'stale' } }, { kind: 'connectionClosedEvent', reason: 'idle' }).ok).toBe(false);
    expect(
      matchEvent({ connectionCheckOutFailedEvent: { reason: 'timeout' } }, { kind: 'connectionCheckOutFailedEvent', reason: 'timeout' }).ok
    ).toBe(true);
  });

  it('rejects assertions on events whose fields are non-deterministic', () => {
    expect(matchEvent({ poolCreatedEvent: { address: 'x' } }, { kind: 'poolCreatedEvent' }).message).toMatch(/unsupported assertion field/);
  });
});

describe('expectEvents: sdam events', () => {
  it('checks previous and new description types', () => {
    const changed: ObservedEvent = {
      kind: 'topologyDescriptionChangedEvent',
      previousDescription: { type: 'Unknown' },
      newDescription: { type: 'Single' }
    };
    const events = [{ topologyDescriptionChangedEvent: { previousDescription: { type: 'Unknown' }, newDescription: { type: 'Single' } } }];
    expect(checkExpectedEvents({ client: 'c', eventType: 'sdam', events, ignoreExtraEvents: true }, [changed, changed]).ok).toBe(true);
    const wrong = [{ topologyDescriptionChangedEvent: { newDescription: { type: 'ReplicaSetWithPrimary' } } }];
    expect(checkExpectedEvents({ client: 'c', eventType: 'sdam', events: wrong }, [changed]).ok).toBe(false);
  });

  it('checks serverDescriptionChangedEvent types', () => {
    const changed: ObservedEvent = {
      kind: 'serverDescriptionChangedEvent',
      previousDescription: { type: 'RSPrimary' },
      newDescription: { type: 'Unknown' }
    };
    expect(matchEvent({ serverDescriptionChangedEvent: { newDescription: { type: 'Unknown' } } }, changed).ok).toBe(true);
    expect(matchEvent({ serverDescriptionChangedEvent: { previousDescription: { type: 'RSSecondary' } } }, changed).ok).toBe(false);
  });

  it('checks awaited on heartbeat events', () => {
    expect(matchEvent({ serverHeartbeatStartedEvent: { awaited: true } }, { kind: 'serverHeartbeatStartedEvent', awaited: true }).ok).toBe(true);
    expect(
      matchEvent({ serverHeartbeatSucceededEvent: { awaited: true } }, { kind: 'serverHeartbeatSucceededEvent', awaited: false }).ok
    ).toBe(false);
    expect(matchEvent({ serverHeartbeatFailedEvent: { awaited: false } }, { kind: 'serverHeartbeatFailedEvent' }).ok).toBe(false);
  });
});

describe('expectLogMessages', () => {
  const started: ObservedLogMessage = {
    level: 'debug',
    component: 'command',
    data: { message: 'Command started', commandName: 'insert', databaseName: 'db', requestId: 5 }
  };
  const failed: ObservedLogMessage = {
    level: 'debug',
    component: 'command',
    data: { message: 'Command failed', commandName: 'saslStart', failure: { code: 18, codeName: 'AuthenticationFailed' } }
  };
  const heartbeat: ObservedLogMessage = { level: 'debug', component: 'topology', data: { message: 'Server heartbeat started' } };

  it('matches level, component and data as a root document', () => {
    const messages = [{ level: 'debug', component: 'command', data: { message: 'Command started', commandName: 'insert' } }];
    expect(checkExpectedLogMessages({ client: 'c', messages }, [started]).ok).toBe(true);
    expect(checkExpectedLogMessages({ client: 'c', messages: [{ ...messages[0], level: 'info' }] }, [started]).ok).toBe(false);
    expect(checkExpectedLogMessages({ client: 'c', messages: [{ ...messages[0], component: 'topology' }] }, [started]).ok).toBe(false);
  });

  it('requires an exact count unless ignoreExtraMessages', () => {
    const messages = [{ level: 'debug', component: 'command', data: { message: 'Command started' } }];
    expect(checkExpectedLogMessages({ client: 'c', messages }, [started, failed]).ok).toBe(false);
    expect(checkExpectedLogMessages({ client: 'c', messages, ignoreExtraMessages: true }, [started, failed]).ok).toBe(true);
    expect(checkExpectedLogMessages({ client: 'c', messages: [] }, []).ok).toBe(true);
  });

  it('drops messages matching ignoreMessages before matching', () => {
    const messages = [{ level: 'debug', component: 'command', data: { message: 'Command started' } }];
    const ignoreMessages = [{ level: 'debug', component: 'topology', data: { message: 'Server heartbeat started' } }];
    expect(checkExpectedLogMessages({ client: 'c', messages, ignoreMessages }, [heartbeat, started, heartbeat]).ok).toBe(true);
    expect(checkExpectedLogMessages({ client: 'c', messages }, [heartbeat, started]).ok).toBe(false);
  });

  it('checks failureIsRedacted', () => {
    const expected = { level: 'debug', component: 'command', data: { message: 'Command failed', failure: { $$exists: true } } };
    expect(checkExpectedLogMessages({ client: 'c', messages: [{ ...expected, failureIsRedacted: true }] }, [failed]).ok).toBe(true);
    expect(checkExpectedLogMessages({ client: 'c', messages: [{ ...expected, failureIsRedacted: false }] }, [failed]).ok).toBe(false);
    const networkFailure: ObservedLogMessage = { ...failed, data: { ...failed.data, failure: { message: 'connection closed', name: 'MongoNetworkError' } } };
    expect(checkExpectedLogMessages({ client: 'c', messages: [{ ...expected, failureIsRedacted: false }] }, [networkFailure]).ok).toBe(true);
    const noFailure: ObservedLogMessage = { ...started, data: { message: 'Command failed' } };
    expect(checkExpectedLogMessages({ client: 'c', messages: [{ ...expected, failureIsRedacted: true }] }, [noFailure]).ok).toBe(false);
  });

  it('recognizes redacted failure forms', () => {
    expect(isRedactedFailure(null)).toBe(true);
    expect(isRedactedFailure('')).toBe(true);
    expect(isRedactedFailure({})).toBe(true);
    expect(isRedactedFailure({ code: 18, errorLabels: [] })).toBe(true);
    expect(isRedactedFailure('MongoServerError: REDACTED')).toBe(true);
    expect(isRedactedFailure({ code: 18, errmsg: 'Authentication failed' })).toBe(false);
    expect(isRedactedFailure('Authentication failed')).toBe(false);
  });
});

describe('expectError', () => {
  const serverError: ObservedError = {
    name: 'MongoServerError',
    message: 'E11000 Duplicate Key error collection: db.coll',
    code: 11000,
    codeName: 'DuplicateKey',
    errorLabels: ['RetryableWriteError'],
    isClientError: false,
    isTimeoutError: false,
    errorResponse: { ok: 0, errmsg: 'E11000 duplicate key', code: 11000, codeName: 'DuplicateKey' }
  };
  const clientError: ObservedError = { name: 'MongoInvalidArgumentError', message: 'bad option', isClientError: true, isTimeoutError: false };
  const check = (expected: string, error: ObservedError | undefined) => checkExpectedError(ej<ExpectedError>(expected), error);

  it('fails when no error was raised', () => {
    expect(check('{"isError": true}', undefined).ok).toBe(false);
    expect(check('{"isError": true}', clientError).ok).toBe(true);
  });

  it('isClientError', () => {
    expect(check('{"isClientError": true}', clientError).ok).toBe(true);
    expect(check('{"isClientError": true}', serverError).ok).toBe(false);
    expect(check('{"isClientError": false}', serverError).ok).toBe(true);
    expect(check('{"isClientError": false}', clientError).ok).toBe(false);
  });

  it('isTimeoutError', () => {
    const timeout: ObservedError = { ...clientError, name: 'MongoOperationTimeoutError', isTimeoutError: true };
    expect(check('{"isTimeoutError": true}', timeout).ok).toBe(true);
    expect(check('{"isTimeoutError": true}', serverError).ok).toBe(false);
    expect(check('{"isTimeoutError": false}', timeout).ok).toBe(false);
  });

  it('errorContains is case-insensitive', () => {
    expect(check('{"errorContains": "duplicate key"}', serverError).ok).toBe(true);
    expect(check('{"errorContains": "not there"}', serverError).ok).toBe(false);
  });

  it('errorContains and errorCodeName consider aggregated bulk write errors', () => {
    const bulk: ObservedError = {
      ...serverError,
      message: 'bulk write failed',
      codeName: undefined,
      aggregatedErrors: [{ message: 'Document failed validation', code: 121, codeName: 'DocumentValidationFailure' }]
    };
    expect(check('{"errorContains": "failed validation"}', bulk).ok).toBe(true);
    expect(check('{"errorCodeName": "DocumentValidationFailure"}', bulk).ok).toBe(true);
  });

  it('errorCode compares numerically', () => {
    expect(check('{"errorCode": 11000}', serverError).ok).toBe(true);
    expect(check('{"errorCode": {"$numberLong": "11000"}}', serverError).ok).toBe(true);
    expect(check('{"errorCode": 26}', serverError).ok).toBe(false);
    expect(check('{"errorCode": 26}', clientError).ok).toBe(false);
  });

  it('errorCodeName is case-insensitive', () => {
    expect(check('{"errorCodeName": "duplicatekey"}', serverError).ok).toBe(true);
    expect(check('{"errorCodeName": "NamespaceNotFound"}', serverError).ok).toBe(false);
  });

  it('errorLabelsContain and errorLabelsOmit', () => {
    expect(check('{"errorLabelsContain": ["RetryableWriteError"]}', serverError).ok).toBe(true);
    expect(check('{"errorLabelsContain": ["RetryableWriteError", "TransientTransactionError"]}', serverError).ok).toBe(false);
    expect(check('{"errorLabelsOmit": ["TransientTransactionError"]}', serverError).ok).toBe(true);
    expect(check('{"errorLabelsOmit": ["RetryableWriteError"]}', serverError).ok).toBe(false);
    expect(check('{"errorLabelsOmit": ["RetryableWriteError"]}', clientError).ok).toBe(true);
  });

  it('errorResponse is matched as a root document', () => {
    expect(check('{"errorResponse": {"errmsg": {"$$type": "string"}}}', serverError).ok).toBe(true);
    expect(check('{"errorResponse": {"code": 1}}', serverError)).toMatchObject({ ok: false, path: '.errorResponse.code' });
    expect(check('{"errorResponse": {"errmsg": {"$$type": "string"}}}', clientError).ok).toBe(false);
  });

  it('writeErrors: every index present, matched as root documents, no extra indexes', () => {
    const bulk: ObservedError = {
      ...serverError,
      writeErrors: new Map([[1, { code: new Int32(11000), message: 'dup', index: 1 }]])
    };
    expect(check('{"writeErrors": {"1": {"code": 11000}}}', bulk).ok).toBe(true);
    expect(check('{"writeErrors": {"0": {"code": 11000}}}', bulk).ok).toBe(false);
    expect(check('{"writeErrors": {}}', bulk).ok).toBe(false);
    expect(check('{"writeErrors": {"1": {"code": 1}}}', bulk).ok).toBe(false);
    expect(check('{"writeErrors": {"1": {"code": 11000}}}', { ...bulk, writeErrors: { 1: { code: 11000 } } }).ok).toBe(true);
    expect(check('{"writeErrors": {"1": {"code": 11000}}}', serverError).ok).toBe(false);
  });

  it('writeConcernErrors: same order and count, matched as root documents', () => {
    const bulk: ObservedError = { ...serverError, writeConcernErrors: [{ code: 64, message: 'wc', details: {} }] };
    expect(check('{"writeConcernErrors": [{"code": 64}]}', bulk).ok).toBe(true);
    expect(check('{"writeConcernErrors": [{"code": 64}, {"code": 64}]}', bulk).ok).toBe(false);
    expect(check('{"writeConcernErrors": [{"code": 65}]}', bulk).ok).toBe(false);
  });

  it('expectResult matches the partial result, with $$unsetOrMatches for optional ones', () => {
    const partial = { insertedCount: 2, deletedCount: 0 };
    expect(check('{"expectResult": {"insertedCount": 2}}', { ...serverError, partialResult: partial }).ok).toBe(true);
    expect(check('{"expectResult": {"insertedCount": 3}}', { ...serverError, partialResult: partial }).ok).toBe(false);
    expect(check('{"expectResult": {"insertedCount": 2}}', serverError).ok).toBe(false);
    expect(check('{"expectResult": {"$$unsetOrMatches": {"insertedCount": 2}}}', serverError).ok).toBe(true);
  });

  it('rejects unknown fields', () => {
    expect(check('{"errorKind": "x"}', serverError).message).toMatch(/unsupported expectError field/);
  });
});
