import {
  MongoNetworkError,
  MongoServerError,
  MongoWriteConcernError,
  type ServerErrorResponse
} from '../../src/errors';
import {
  isNodeShuttingDownError,
  isNotWritablePrimaryError,
  isRecoveringError,
  isStateChangeError
} from '../../src/sdam/error_classification';

const serverError = (response: ServerErrorResponse): MongoServerError => new MongoServerError(response);

describe('SDAM error classification', () => {
  it.each([11600, 11602, 13436, 189, 91])('code %i is "node is recovering"', (code) => {
    const error = serverError({ ok: 0, code, errmsg: 'x' });
    expect(isRecoveringError(error)).toBe(true);
    expect(isNotWritablePrimaryError(error)).toBe(false);
    expect(isStateChangeError(error)).toBe(true);
  });

  it.each([10107, 13435, 10058])('code %i is "not writable primary"', (code) => {
    const error = serverError({ ok: 0, code, errmsg: 'x' });
    expect(isNotWritablePrimaryError(error)).toBe(true);
    expect(isRecoveringError(error)).toBe(false);
    expect(isNodeShuttingDownError(error)).toBe(false);
  });

  it('treats only 11600 and 91 as "node is shutting down"', () => {
    expect(isNodeShuttingDownError(serverError({ ok: 0, code: 11600 }))).toBe(true);
    expect(isNodeShuttingDownError(serverError({ ok: 0, code: 91 }))).toBe(true);
    expect(isNodeShuttingDownError(serverError({ ok: 0, code: 189 }))).toBe(false);
  });

  it('uses the code alone when there is one, never the message', () => {
    const error = serverError({ ok: 0, code: 2, errmsg: 'not master' });
    expect(isStateChangeError(error)).toBe(false);
  });

  it('falls back to the message when there is no code', () => {
    expect(isNotWritablePrimaryError(serverError({ ok: 0, errmsg: 'not master' }))).toBe(true);
    expect(isRecoveringError(serverError({ ok: 0, errmsg: 'node is recovering' }))).toBe(true);
    const notMasterOrSecondary = serverError({ ok: 0, errmsg: 'not master or secondary; cannot currently read' });
    expect(isRecoveringError(notMasterOrSecondary)).toBe(true);
    expect(isNotWritablePrimaryError(notMasterOrSecondary)).toBe(false);
    expect(isStateChangeError(serverError({ ok: 0, errmsg: 'some other failure' }))).toBe(false);
  });

  it('checks a write concern error like a command error', () => {
    const error = new MongoWriteConcernError({ ok: 1, writeConcernError: { code: 91, errmsg: 'Replication is being shut down' } });
    expect(isStateChangeError(error)).toBe(true);
    expect(isNodeShuttingDownError(error)).toBe(true);
  });

  it('never checks writeErrors of an acknowledged reply', () => {
    const error = serverError({ ok: 1, code: 13435, writeErrors: [{ code: 13435, errmsg: 'NotPrimaryNoSecondaryOk', index: 0 }] });
    expect(isStateChangeError(error)).toBe(false);
  });

  it('does not classify network errors or plain errors', () => {
    expect(isStateChangeError(new MongoNetworkError('not master'))).toBe(false);
    expect(isStateChangeError(new Error('not master'))).toBe(false);
    expect(isStateChangeError(undefined)).toBe(false);
  });
});
