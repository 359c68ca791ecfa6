import { MongoNetworkError, MongoServerError } from '../../src/errors';
import { isSensitiveCommand, redactSensitiveFailure, SENSITIVE_COMMANDS } from '../../src/auth/sensitive_commands';

describe('sensitive commands (command monitoring / logging redaction)', () => {
  it.each(['authenticate', 'saslStart', 'saslContinue', 'getnonce', 'createUser', 'updateUser', 'copydbgetnonce', 'copydbsaslstart', 'copydb'])(
    '%s is always sensitive',
    name => {
      expect(isSensitiveCommand(name)).toBe(true);
      expect(isSensitiveCommand(name, { [name]: 1 })).toBe(true);
    }
  );

  it('lists exactly the spec commands', () => {
    expect(SENSITIVE_COMMANDS.size).toBe(9);
  });

  it.each(['hello', 'isMaster', 'ismaster'])('%s is sensitive only with speculativeAuthenticate', name => {
    expect(isSensitiveCommand(name, { [name]: 1, speculativeAuthenticate: { saslStart: 1 } })).toBe(true);
    expect(isSensitiveCommand(name, { [name]: 1, saslSupportedMechs: 'admin.alice' })).toBe(false);
    expect(isSensitiveCommand(name)).toBe(false);
  });

  it('other commands are not sensitive', () => {
    for (const name of ['find', 'insert', 'ping', 'dropUser', 'usersInfo']) expect(isSensitiveCommand(name, { [name]: 1 })).toBe(false);
  });

  it('redacts a server failure down to code, codeName and errorLabels', () => {
    const original = new MongoServerError({ ok: 0, code: 18, codeName: 'AuthenticationFailed', errmsg: 'Authentication failed for user "alice"', errorLabels: ['X'], extra: 'detail' });
    const redacted = redactSensitiveFailure(original) as MongoServerError;
    expect(redacted).toBeInstanceOf(MongoServerError);
    expect(redacted.message).toBe('');
    expect(redacted.code).toBe(18);
    expect(redacted.codeName).toBe('AuthenticationFailed');
    expect(redacted.errorLabels).toEqual(['X']);
    expect(redacted.extra).toBeUndefined();
    expect(JSON.stringify(redacted.errorResponse)).not.toContain('alice');
  });

  it('replaces any other failure by an empty error of the same name', () => {
    const redacted = redactSensitiveFailure(new MongoNetworkError('connection reset while sending saslStart payload'));
    expect(redacted.message).toBe('');
    expect(redacted.name).toBe('MongoNetworkError');
  });
});
