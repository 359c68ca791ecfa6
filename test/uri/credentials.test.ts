import { inspect } from 'node:util';
import { DEFAULT_ALLOWED_HOSTS, MongoCredentials, type CredentialInput } from '../../src/auth/mongo_credentials';
import { MongoParseError } from '../../src/errors';

function build(input: Partial<CredentialInput>): MongoCredentials | undefined {
  return MongoCredentials.fromInput({ hasUserInfo: false, ...input });
}

describe('MongoCredentials.fromInput', () => {
  it('creates no credential without userinfo or mechanism', () => {
    expect(build({ database: 'db', source: 'other' })).toBeUndefined();
  });

  it('applies the default source per mechanism', () => {
    expect(build({ hasUserInfo: true, username: 'u', password: 'p' })?.source).toBe('admin');
    expect(build({ hasUserInfo: true, username: 'u', password: 'p', database: 'app' })?.source).toBe('app');
    expect(build({ hasUserInfo: true, username: 'u', password: 'p', mechanism: 'PLAIN' })?.source).toBe('$external');
    expect(build({ hasUserInfo: true, username: 'u', password: 'p', mechanism: 'PLAIN', database: 'ldap' })?.source).toBe('ldap');
    expect(build({ hasUserInfo: true, username: 'u', mechanism: 'GSSAPI', database: 'app' })?.source).toBe('$external');
    expect(build({ mechanism: 'MONGODB-X509', database: 'app' })?.source).toBe('$external');
  });

  it('fills GSSAPI SERVICE_NAME and OIDC ALLOWED_HOSTS defaults', () => {
    expect(build({ hasUserInfo: true, username: 'u', mechanism: 'GSSAPI' })?.mechanismProperties).toEqual({ SERVICE_NAME: 'mongodb' });
    const oidc = build({ mechanism: 'MONGODB-OIDC', mechanismProperties: { ENVIRONMENT: 'k8s' } });
    expect(oidc?.mechanismProperties.ALLOWED_HOSTS).toEqual([...DEFAULT_ALLOWED_HOSTS]);
  });

  it.each<[string, Partial<CredentialInput>]>([
    ['empty username', { hasUserInfo: true, username: '' }],
    ['SCRAM without password', { hasUserInfo: true, username: 'u', mechanism: 'SCRAM-SHA-256' }],
    ['X509 with password', { hasUserInfo: true, username: 'u', password: 'p', mechanism: 'MONGODB-X509' }],
    ['X509 with another source', { mechanism: 'MONGODB-X509', source: 'admin' }],
    ['SCRAM with mechanism properties', { hasUserInfo: true, username: 'u', password: 'p', mechanismProperties: { SERVICE_NAME: 'x' } }],
    ['GSSAPI with a bad CANONICALIZE_HOST_NAME', { hasUserInfo: true, username: 'u', mechanism: 'GSSAPI', mechanismProperties: { CANONICALIZE_HOST_NAME: 'sideways' } }],
    ['GSSAPI with an unknown property', { hasUserInfo: true, username: 'u', mechanism: 'GSSAPI', mechanismProperties: { NOPE: 'x' } }],
    ['AWS with credentials', { hasUserInfo: true, username: 'AKIA', password: 'secret', mechanism: 'MONGODB-AWS' }],
    ['AWS with a session token', { mechanism: 'MONGODB-AWS', mechanismProperties: { AWS_SESSION_TOKEN: 't' } }],
    ['OIDC without environment or callback', { mechanism: 'MONGODB-OIDC' }],
    ['OIDC with environment and callback', { mechanism: 'MONGODB-OIDC', mechanismProperties: { ENVIRONMENT: 'test', OIDC_CALLBACK: async () => ({}) } }],
    ['OIDC azure without TOKEN_RESOURCE', { mechanism: 'MONGODB-OIDC', mechanismProperties: { ENVIRONMENT: 'azure' } }],
    ['OIDC TOKEN_RESOURCE with k8s', { mechanism: 'MONGODB-OIDC', mechanismProperties: { ENVIRONMENT: 'k8s', TOKEN_RESOURCE: 'r' } }],
    ['OIDC username with test environment', { hasUserInfo: true, username: 'u', mechanism: 'MONGODB-OIDC', mechanismProperties: { ENVIRONMENT: 'test' } }],
    ['OIDC with bad ALLOWED_HOSTS', { mechanism: 'MONGODB-OIDC', mechanismProperties: { OIDC_HUMAN_CALLBACK: async () => ({}), ALLOWED_HOSTS: 'x' as never } }]
  ])('rejects %s with MongoParseError', (_what, input) => {
    expect(() => build(input)).toThrow(MongoParseError);
  });

  it('accepts the valid combinations', () => {
    expect(build({ mechanism: 'MONGODB-AWS' })?.mechanism).toBe('MONGODB-AWS');
    expect(build({ hasUserInfo: true, username: 'client-id', mechanism: 'MONGODB-OIDC', mechanismProperties: { ENVIRONMENT: 'azure', TOKEN_RESOURCE: 'r' } })?.username).toBe('client-id');
    expect(build({ mechanism: 'MONGODB-OIDC', mechanismProperties: { OIDC_CALLBACK: async () => ({}) } })?.mechanism).toBe('MONGODB-OIDC');
    // `user:@host` with X509: the empty password counts as none.
    expect(build({ hasUserInfo: true, username: 'CN=x', password: '', mechanism: 'MONGODB-X509' })?.password).toBeUndefined();
    // Mechanism negotiation accepts an empty or absent password (the server decides).
    expect(build({ hasUserInfo: true, username: 'u' })?.mechanism).toBe('DEFAULT');
  });

  it('never reveals the password in validation errors, JSON or inspect', () => {
    const secret = 'Pw-7c1f2d-unique';
    expect(() => build({ hasUserInfo: true, username: 'u', password: secret, mechanism: 'MONGODB-X509' })).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining(secret) })
    );
    const credentials = build({ hasUserInfo: true, username: 'u', password: secret });
    expect(JSON.stringify(credentials)).not.toContain(secret);
    expect(inspect(credentials)).not.toContain(secret);
  });
});
