/**
 * MONGODB-AWS: SigV4 against AWS's documented vectors and an independent step-by-step
 * computation, STS host/region rules, the SASL conversation (BSON payloads), and where
 * credentials come from (with an injected fetcher and environment — no network).
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { Binary, deserialize, serialize, type Document } from 'bson';
import { MongoAuthenticationError, MongoMissingCredentialsError, MongoServerError } from '../../src/errors';
import type { AuthConnection } from '../../src/auth/auth_provider';
import { AwsProvider, deriveStsRegion, STS_GET_CALLER_IDENTITY_BODY, validateStsHost } from '../../src/auth/aws';
import { AwsCredentialProvider, type AwsFetchInit, type AwsFetcher } from '../../src/auth/aws_credentials';
import { signV4, toAmzDate } from '../../src/auth/aws_sigv4';
import { MongoCredentials, type AuthMechanismProperties } from '../../src/auth/mongo_credentials';

const AKID = 'AKIDEXAMPLE';
const SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
const DATE = new Date(Date.UTC(2015, 7, 30, 12, 36, 0));

function awsCreds(options: { username?: string; password?: string; mechanismProperties?: AuthMechanismProperties } = {}): MongoCredentials {
  return new MongoCredentials({
    username: options.username,
    password: options.password,
    source: '$external',
    mechanism: 'MONGODB-AWS',
    mechanismProperties: options.mechanismProperties ?? {}
  });
}

describe('AWS Signature Version 4', () => {
  it('matches the AWS test-suite "get-vanilla" vector', () => {
    const signed = signV4({ method: 'GET', host: 'example.amazonaws.com', path: '/', headers: {}, body: '', region: 'us-east-1', service: 'service', date: DATE, credentials: { accessKeyId: AKID, secretAccessKey: SECRET } });
    expect(signed.authorization).toBe(
      'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31'
    );
  });

  it('matches the documented IAM ListUsers example (quoted in the auth spec)', () => {
    const signed = signV4({
      method: 'GET',
      host: 'iam.amazonaws.com',
      path: '/',
      query: { Version: '2010-05-08', Action: 'ListUsers' },
      headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8' },
      body: '',
      region: 'us-east-1',
      service: 'iam',
      date: DATE,
      credentials: { accessKeyId: AKID, secretAccessKey: SECRET }
    });
    expect(signed.authorization).toBe(
      'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7'
    );
  });

  it('formats X-Amz-Date as YYYYMMDDTHHMMSSZ', () => {
    expect(toAmzDate(new Date(Date.UTC(2019, 10, 7, 0, 26, 7, 123)))).toBe('20191107T002607Z');
  });
});

/** The expected STS GetCallerIdentity signature computed independently, step by step. */
function expectedStsAuthorization(o: { host: string; region: string; serverNonce: string; amzDate: string; akid: string; secret: string; token?: string }): string {
  const hex = (s: string) => createHash('sha256').update(s).digest('hex');
  const hmac = (k: string | Buffer, s: string) => createHmac('sha256', k).update(s).digest();
  const headerLines = [
    'content-length:43',
    'content-type:application/x-www-form-urlencoded',
    `host:${o.host}`,
    `x-amz-date:${o.amzDate}`,
    ...(o.token ? [`x-amz-security-token:${o.token}`] : []),
    'x-mongodb-gs2-cb-flag:n',
    `x-mongodb-server-nonce:${o.serverNonce}`
  ];
  const signedHeaders = headerLines.map(l => l.split(':')[0]).join(';');
  const canonical = ['POST', '/', '', headerLines.join('\n') + '\n', signedHeaders, hex('Action=GetCallerIdentity&Version=2011-06-15')].join('\n');
  const day = o.amzDate.slice(0, 8);
  const scope = `${day}/${o.region}/sts/aws4_request`;
  const toSign = `AWS4-HMAC-SHA256\n${o.amzDate}\n${scope}\n${hex(canonical)}`;
  const key = hmac(hmac(hmac(hmac(`AWS4${o.secret}`, day), o.region), 'sts'), 'aws4_request');
  const signature = createHmac('sha256', key).update(toSign).digest('hex');
  return `AWS4-HMAC-SHA256 Credential=${o.akid}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
}

describe('STS host validation and region', () => {
  it.each([
    ['sts.amazonaws.com', 'us-east-1'],
    ['sts.us-west-2.amazonaws.com', 'us-west-2'],
    ['sts.us-west-2.amazonaws.com.ch', 'us-west-2'],
    ['example.com', 'com'],
    ['localhost', 'us-east-1']
  ])('%s → %s', (host, region) => {
    expect(validateStsHost(host)).toBe(true);
    expect(deriveStsRegion(host)).toBe(region);
  });

  it.each(['sts..com', '.amazonaws.com', 'sts.amazonaws.', '', 'a'.repeat(256)])('rejects %j', host => {
    expect(validateStsHost(host)).toBe(false);
  });
});

/** A fake mongod for MONGODB-AWS that records the conversation. */
function fakeAwsServer(options: { host?: string; serverNonce?: (clientNonce: Buffer) => Buffer; reply2?: Document } = {}) {
  const sent: Array<{ db: string; cmd: Document }> = [];
  const connection: AuthConnection = {
    address: 'aws-server:27017',
    async command(db, cmd) {
      sent.push({ db, cmd });
      if (cmd.saslStart) {
        const r = Buffer.from((deserialize((cmd.payload as Binary).value()).r as Binary).value());
        const s = options.serverNonce ? options.serverNonce(r) : Buffer.concat([r, randomBytes(32)]);
        return { conversationId: 1, done: false, ok: 1, payload: new Binary(serialize({ s: new Binary(s), h: options.host ?? 'sts.amazonaws.com' })) };
      }
      return options.reply2 ?? { conversationId: 1, done: true, ok: 1, payload: new Binary(Buffer.alloc(0)) };
    }
  };
  return { connection, sent };
}

const noNetwork: AwsFetcher = async url => {
  throw new Error(`unexpected fetch ${url}`);
};

describe('MONGODB-AWS conversation', () => {
  it('reproduces the spec client-first payload and signs the spec server-first reply', async () => {
    const specClientFirst = 'NAAAAAVyACAAAAAAWj0lSjp8M0BMKGU+QVAzRSpWfk0hJigqO1V+b0FaVz4QcABuAAAAAA==';
    const specServerFirst = 'ZgAAAAVzAEAAAAAAWj0lSjp8M0BMKGU+QVAzRSpWfk0hJigqO1V+b0FaVz5Rj7x9UOBHJLvPgvgPS9sSzZUWgAPTy8HBbI1cG1WJ9gJoABIAAABzdHMuYW1hem9uYXdzLmNvbQAA';
    const nonce = Buffer.from((deserialize(Buffer.from(specClientFirst, 'base64')).r as Binary).value());
    const sent: Document[] = [];
    const connection: AuthConnection = {
      address: 'x:1',
      async command(db, cmd) {
        sent.push(cmd);
        expect(db).toBe('$external');
        return cmd.saslStart
          ? { conversationId: 1, done: false, ok: 1, payload: new Binary(Buffer.from(specServerFirst, 'base64')) }
          : { conversationId: 1, done: true, ok: 1 };
      }
    };
    const date = new Date(Date.UTC(2019, 10, 12, 21, 1, 22));
    const provider = new AwsProvider({ nonce: () => nonce, date: () => date, fetcher: noNetwork, env: {} });
    await provider.auth({ connection, credentials: awsCreds({ username: 'AKIAICGVLKOKZVY3X3DA', password: SECRET }) });

    expect(Object.keys(sent[0])).toEqual(['saslStart', 'mechanism', 'payload']);
    expect(sent[0]).toMatchObject({ saslStart: 1, mechanism: 'MONGODB-AWS' });
    expect(Buffer.from((sent[0].payload as Binary).value()).toString('base64')).toBe(specClientFirst);

    expect(sent[1]).toMatchObject({ saslContinue: 1, conversationId: 1 });
    const clientSecond = deserialize((sent[1].payload as Binary).value());
    expect(Object.keys(clientSecond)).toEqual(['a', 'd']);
    expect(clientSecond.d).toBe('20191112T210122Z');
    const serverNonce = Buffer.from((deserialize(Buffer.from(specServerFirst, 'base64')).s as Binary).value()).toString('base64');
    expect(clientSecond.a).toBe(
      expectedStsAuthorization({ host: 'sts.amazonaws.com', region: 'us-east-1', serverNonce, amzDate: '20191112T210122Z', akid: 'AKIAICGVLKOKZVY3X3DA', secret: SECRET })
    );
    expect(clientSecond.a).toContain('SignedHeaders=content-length;content-type;host;x-amz-date;x-mongodb-gs2-cb-flag;x-mongodb-server-nonce,');
  });

  it('sends and signs the session token for temporary credentials, with the host-derived region', async () => {
    const server = fakeAwsServer({ host: 'sts.us-west-2.amazonaws.com' });
    const provider = new AwsProvider({ date: () => DATE, fetcher: noNetwork, env: {} });
    await provider.auth({ connection: server.connection, credentials: awsCreds({ username: AKID, password: SECRET, mechanismProperties: { AWS_SESSION_TOKEN: 'TOKEN123' } }) });
    const start = deserialize((server.sent[0].cmd.payload as Binary).value());
    expect((start.r as Binary).value()).toHaveLength(32);
    expect(start.p).toBe(110);
    const second = deserialize((server.sent[1].cmd.payload as Binary).value());
    expect(second.t).toBe('TOKEN123');
    expect(second.a).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/20150830\/us-west-2\/sts\/aws4_request, SignedHeaders=content-length;content-type;host;x-amz-date;x-amz-security-token;x-mongodb-gs2-cb-flag;x-mongodb-server-nonce, Signature=[0-9a-f]{64}$/);
  });

  it('signs exactly what an independent SigV4 computation produces', async () => {
    let serverNonce = Buffer.alloc(0);
    const server = fakeAwsServer({ serverNonce: r => (serverNonce = Buffer.concat([r, randomBytes(32)])) });
    const provider = new AwsProvider({ date: () => DATE, fetcher: noNetwork, env: {} });
    await provider.auth({ connection: server.connection, credentials: awsCreds({ username: AKID, password: SECRET, mechanismProperties: { AWS_SESSION_TOKEN: 'tok' } }) });
    const second = deserialize((server.sent[1].cmd.payload as Binary).value());
    expect(second.a).toBe(
      expectedStsAuthorization({ host: 'sts.amazonaws.com', region: 'us-east-1', serverNonce: serverNonce.toString('base64'), amzDate: '20150830T123600Z', akid: AKID, secret: SECRET, token: 'tok' })
    );
    expect(STS_GET_CALLER_IDENTITY_BODY).toHaveLength(43);
  });

  it.each([
    ['a server nonce of the wrong length', { serverNonce: (r: Buffer) => Buffer.concat([r, randomBytes(16)]) }, /server nonce/],
    ['a server nonce not starting with the client nonce', { serverNonce: () => randomBytes(64) }, /server nonce/],
    ['an invalid STS host', { host: 'sts..amazonaws.com' }, /invalid STS host/]
  ])('rejects %s without sending the signature', async (_name, options, message) => {
    const server = fakeAwsServer(options);
    const provider = new AwsProvider({ fetcher: noNetwork, env: {} });
    const error = await provider.auth({ connection: server.connection, credentials: awsCreds({ username: AKID, password: SECRET }) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MongoAuthenticationError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain(SECRET);
    expect(server.sent).toHaveLength(1);
  });

  it('reports a server refusal with code and access key id, never the secret', async () => {
    const server = fakeAwsServer({ reply2: { ok: 0, code: 18, codeName: 'AuthenticationFailed', errmsg: 'Authentication failed.' } });
    const error = await new AwsProvider({ fetcher: noNetwork, env: {} })
      .auth({ connection: server.connection, credentials: awsCreds({ username: AKID, password: SECRET }) })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MongoServerError);
    expect((error as MongoServerError).code).toBe(18);
    expect((error as Error).message).toBe('Authentication failed for user "AKIDEXAMPLE" with mechanism MONGODB-AWS: Authentication failed.');
    expect((error as Error).message).not.toContain(SECRET);
  });
});

/** A fetcher answering ECS/EC2/STS URLs, recording every request. */
function fakeMetadata(routes: Record<string, { status?: number; body: string }>) {
  const requests: Array<{ url: string; init: AwsFetchInit }> = [];
  const fetcher: AwsFetcher = async (url, init) => {
    requests.push({ url, init });
    const key = Object.keys(routes).find(k => url === k || url.startsWith(k + '?'));
    const route = key ? routes[key] : { status: 404, body: 'not found' };
    return { status: route.status ?? 200, text: async () => route.body };
  };
  return { fetcher, requests };
}

const inAnHour = () => new Date(Date.now() + 3600_000).toISOString();
const EC2 = 'http://169.254.169.254';

describe('AWS credential sources', () => {
  it('1. the credential object wins over everything', async () => {
    const provider = new AwsCredentialProvider({ fetcher: noNetwork, env: { AWS_ACCESS_KEY_ID: 'ENVKEY', AWS_SECRET_ACCESS_KEY: 'envsecret' } });
    await expect(provider.getCredentials(awsCreds({ username: 'U', password: 'P', mechanismProperties: { AWS_SESSION_TOKEN: 'T' } }))).resolves.toEqual({
      accessKeyId: 'U',
      secretAccessKey: 'P',
      sessionToken: 'T'
    });
  });

  it('rejects a username without password and vice versa', async () => {
    const provider = new AwsCredentialProvider({ fetcher: noNetwork, env: {} });
    await expect(provider.getCredentials(awsCreds({ username: 'U' }))).rejects.toThrow(MongoMissingCredentialsError);
    await expect(provider.getCredentials(awsCreds({ password: 'P' }))).rejects.toThrow(MongoMissingCredentialsError);
  });

  it('2. a custom AWS_CREDENTIAL_PROVIDER comes before the environment', async () => {
    const provider = new AwsCredentialProvider({ fetcher: noNetwork, env: { AWS_ACCESS_KEY_ID: 'ENVKEY', AWS_SECRET_ACCESS_KEY: 'envsecret' } });
    const custom = async () => ({ accessKeyId: 'CUSTOM', secretAccessKey: 'customsecret' });
    await expect(provider.getCredentials(awsCreds({ mechanismProperties: { AWS_CREDENTIAL_PROVIDER: custom } }))).resolves.toEqual({ accessKeyId: 'CUSTOM', secretAccessKey: 'customsecret' });
  });

  it('3. environment variables, read at every call and never cached', async () => {
    const env: Record<string, string | undefined> = { AWS_ACCESS_KEY_ID: 'K1', AWS_SECRET_ACCESS_KEY: 'S1', AWS_SESSION_TOKEN: 'T1' };
    const provider = new AwsCredentialProvider({ fetcher: noNetwork, env });
    await expect(provider.getCredentials(awsCreds())).resolves.toEqual({ accessKeyId: 'K1', secretAccessKey: 'S1', sessionToken: 'T1' });
    env.AWS_ACCESS_KEY_ID = 'K2';
    env.AWS_SECRET_ACCESS_KEY = 'S2';
    delete env.AWS_SESSION_TOKEN;
    await expect(provider.getCredentials(awsCreds())).resolves.toEqual({ accessKeyId: 'K2', secretAccessKey: 'S2' });
  });

  it('4. ECS endpoint when AWS_CONTAINER_CREDENTIALS_RELATIVE_URI is set', async () => {
    const { fetcher, requests } = fakeMetadata({
      'http://169.254.170.2/v2/credentials/abc': { body: JSON.stringify({ AccessKeyId: 'ECSKEY', SecretAccessKey: 'ecssecret', Token: 'ecstoken', Expiration: inAnHour() }) }
    });
    const provider = new AwsCredentialProvider({ fetcher, env: { AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: '/v2/credentials/abc' } });
    await expect(provider.getCredentials(awsCreds())).resolves.toMatchObject({ accessKeyId: 'ECSKEY', secretAccessKey: 'ecssecret', sessionToken: 'ecstoken' });
    expect(requests.map(r => r.url)).toEqual(['http://169.254.170.2/v2/credentials/abc']);
  });

  function ec2Routes(expiration = inAnHour()) {
    return fakeMetadata({
      [`${EC2}/latest/api/token`]: { body: 'IMDS-TOKEN' },
      [`${EC2}/latest/meta-data/iam/security-credentials/`]: { body: 'my-role\n' },
      [`${EC2}/latest/meta-data/iam/security-credentials/my-role`]: {
        body: JSON.stringify({ Code: 'Success', Type: 'AWS-HMAC', AccessKeyId: 'EC2KEY', SecretAccessKey: 'ec2secret', Token: 'ec2token', Expiration: expiration })
      }
    });
  }

  it('5. EC2 IMDSv2 otherwise: PUT a token, then role name, then credentials with the token header', async () => {
    const { fetcher, requests } = ec2Routes();
    const provider = new AwsCredentialProvider({ fetcher, env: {} });
    await expect(provider.getCredentials(awsCreds())).resolves.toMatchObject({ accessKeyId: 'EC2KEY', secretAccessKey: 'ec2secret', sessionToken: 'ec2token' });
    expect(requests).toEqual([
      { url: `${EC2}/latest/api/token`, init: { method: 'PUT', headers: { 'X-aws-ec2-metadata-token-ttl-seconds': '30' } } },
      { url: `${EC2}/latest/meta-data/iam/security-credentials/`, init: { method: 'GET', headers: { 'X-aws-ec2-metadata-token': 'IMDS-TOKEN' } } },
      { url: `${EC2}/latest/meta-data/iam/security-credentials/my-role`, init: { method: 'GET', headers: { 'X-aws-ec2-metadata-token': 'IMDS-TOKEN' } } }
    ]);
  });

  it('caches fetched credentials (even over later env vars) until 5 minutes before expiry', async () => {
    let now = Date.now();
    const expiration = new Date(now + 20 * 60_000).toISOString();
    const { fetcher, requests } = ec2Routes(expiration);
    const env: Record<string, string | undefined> = {};
    const provider = new AwsCredentialProvider({ fetcher, env, now: () => now });
    await provider.getCredentials(awsCreds());
    env.AWS_ACCESS_KEY_ID = 'ENVKEY';
    env.AWS_SECRET_ACCESS_KEY = 'envsecret';
    await expect(provider.getCredentials(awsCreds())).resolves.toMatchObject({ accessKeyId: 'EC2KEY' });
    expect(requests).toHaveLength(3);
    now += 16 * 60_000; // 4 minutes left: no longer valid
    delete env.AWS_ACCESS_KEY_ID;
    await provider.getCredentials(awsCreds());
    expect(requests).toHaveLength(6);
  });

  it('clears the cache when authentication fails', async () => {
    const { fetcher, requests } = ec2Routes();
    const credentialProvider = new AwsCredentialProvider({ fetcher, env: {} });
    const aws = new AwsProvider({ credentialProvider });
    const refusing = fakeAwsServer({ reply2: { ok: 0, code: 18, codeName: 'AuthenticationFailed', errmsg: 'Authentication failed.' } });
    await expect(aws.auth({ connection: refusing.connection, credentials: awsCreds() })).rejects.toThrow(MongoServerError);
    const accepting = fakeAwsServer();
    await aws.auth({ connection: accepting.connection, credentials: awsCreds() });
    expect(requests).toHaveLength(6); // fetched again after the failure
    const second = deserialize((accepting.sent[1].cmd.payload as Binary).value());
    expect(second.t).toBe('ec2token');
    await aws.auth({ connection: fakeAwsServer().connection, credentials: awsCreds() });
    expect(requests).toHaveLength(6); // and cached after the success
  });

  it('AssumeRoleWithWebIdentity when AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN are set', async () => {
    const { fetcher, requests } = fakeMetadata({
      'https://sts.amazonaws.com/': {
        body: JSON.stringify({
          AssumeRoleWithWebIdentityResponse: {
            AssumeRoleWithWebIdentityResult: { Credentials: { AccessKeyId: 'WEBKEY', SecretAccessKey: 'websecret', SessionToken: 'webtoken', Expiration: Date.now() / 1000 + 3600 } }
          }
        })
      }
    });
    const provider = new AwsCredentialProvider({
      fetcher,
      env: { AWS_WEB_IDENTITY_TOKEN_FILE: '/var/run/token', AWS_ROLE_ARN: 'arn:aws:iam::123:role/r', AWS_ROLE_SESSION_NAME: 'app1', AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: '/ignored' },
      readFile: async path => (path === '/var/run/token' ? 'jwt.token.value\n' : '')
    });
    await expect(provider.getCredentials(awsCreds())).resolves.toMatchObject({ accessKeyId: 'WEBKEY', secretAccessKey: 'websecret', sessionToken: 'webtoken' });
    const url = new URL(requests[0].url);
    expect(url.origin + url.pathname).toBe('https://sts.amazonaws.com/');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      Action: 'AssumeRoleWithWebIdentity',
      RoleSessionName: 'app1',
      RoleArn: 'arn:aws:iam::123:role/r',
      WebIdentityToken: 'jwt.token.value',
      Version: '2011-06-15'
    });
    expect(requests[0].init).toEqual({ method: 'POST', headers: { Accept: 'application/json' } });
  });

  it('fails clearly, without response bodies or secrets, when an endpoint errors or returns junk', async () => {
    const failing = fakeMetadata({ [`${EC2}/latest/api/token`]: { status: 500, body: 'secret internal detail' } });
    const error = await new AwsCredentialProvider({ fetcher: failing.fetcher, env: {} }).getCredentials(awsCreds()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MongoAuthenticationError);
    expect((error as Error).message).toBe('Authentication failed with mechanism MONGODB-AWS: the EC2 metadata token endpoint answered HTTP 500');

    const junk = fakeMetadata({ 'http://169.254.170.2/creds': { body: JSON.stringify({ SecretAccessKey: 'leaky' }) } });
    const error2 = await new AwsCredentialProvider({ fetcher: junk.fetcher, env: { AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: '/creds' } })
      .getCredentials(awsCreds())
      .catch((e: unknown) => e);
    expect((error2 as Error).message).toContain('returned no usable credentials');
    expect((error2 as Error).message).not.toContain('leaky');

    const unreachable: AwsFetcher = async () => {
      throw new Error('ECONNREFUSED');
    };
    await expect(new AwsCredentialProvider({ fetcher: unreachable, env: {} }).getCredentials(awsCreds())).rejects.toThrow(/could not reach the EC2 metadata token endpoint/);
  });
});
