import {
  MongoError,
  MongoServerError,
  MongoWriteConcernError,
  MongoNetworkError,
  MongoNetworkTimeoutError,
  MongoParseError,
  MongoRuntimeError,
  MongoPoolClearedError,
  isNetworkError
} from '../src/errors';

describe('error hierarchy', () => {
  test('MongoServerError copies code, codeName, labels and extra fields from the reply', () => {
    const reply = { ok: 0, errmsg: 'not primary', code: 10107, codeName: 'NotWritablePrimary', errorLabels: ['RetryableWriteError'], topologyVersion: { counter: 1 } };
    const err = new MongoServerError(reply);
    expect(err).toBeInstanceOf(MongoError);
    expect(err.name).toBe('MongoServerError');
    expect(err.message).toBe('not primary');
    expect(err.code).toBe(10107);
    expect(err.codeName).toBe('NotWritablePrimary');
    expect(err.hasErrorLabel('RetryableWriteError')).toBe(true);
    expect(err.errorLabels).toEqual(['RetryableWriteError']);
    expect(err.topologyVersion).toEqual({ counter: 1 });
    expect(err.errorResponse).toBe(reply);
  });

  test('MongoWriteConcernError takes code and labels from writeConcernError', () => {
    const err = new MongoWriteConcernError({ ok: 1, writeConcernError: { code: 64, codeName: 'WriteConcernFailed', errmsg: 'waiting', errorLabels: ['X'] } }, { n: 1 });
    expect(err).toBeInstanceOf(MongoServerError);
    expect(err.code).toBe(64);
    expect(err.message).toBe('waiting');
    expect(err.hasErrorLabel('X')).toBe(true);
    expect(err.result).toEqual({ n: 1 });
  });

  test('network errors', () => {
    const t = new MongoNetworkTimeoutError('timed out', { beforeHandshake: true });
    expect(isNetworkError(t)).toBe(true);
    expect(t.beforeHandshake).toBe(true);
    expect(t.name).toBe('MongoNetworkTimeoutError');
    const cleared = new MongoPoolClearedError('h:1');
    expect(cleared).toBeInstanceOf(MongoNetworkError);
    expect(cleared.hasErrorLabel('RetryableWriteError')).toBe(true);
    expect(new MongoParseError('bad')).toBeInstanceOf(MongoRuntimeError);
    expect(isNetworkError(new MongoParseError('bad'))).toBe(false);
  });
});
