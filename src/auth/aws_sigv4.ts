/**
 * AWS Signature Version 4 (node:crypto only), as MONGODB-AWS needs it to sign the STS
 * `GetCallerIdentity` request that the server forwards to AWS.
 *
 * Steps (AWS "Create a signed AWS API request"):
 *  1. canonical request = METHOD \n URI \n QUERY \n CANONICAL-HEADERS \n \n SIGNED-HEADERS \n hex(SHA256(body))
 *  2. string to sign    = "AWS4-HMAC-SHA256" \n amzDate \n scope \n hex(SHA256(canonical request))
 *  3. signing key       = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, yyyymmdd), region), service), "aws4_request")
 *  4. signature         = hex(HMAC(signing key, string to sign))
 * `host`, `x-amz-date` and (with temporary credentials) `x-amz-security-token` are added and signed
 * automatically; every header given is signed.
 */
import { createHash, createHmac } from 'node:crypto';

export interface AwsSigningCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface SigV4Request {
  method: string;
  host: string;
  /** Absolute path, already URI-encoded (MONGODB-AWS: `/`). */
  path: string;
  /** Query parameters (encoded and sorted here). */
  query?: Record<string, string>;
  /** Extra headers to send and sign (names are case-insensitive). */
  headers: Record<string, string>;
  body: string;
  region: string;
  service: string;
  date: Date;
  credentials: AwsSigningCredentials;
}

export interface SignedRequest {
  /** The `Authorization` header value. */
  authorization: string;
  /** The `X-Amz-Date` header value (`YYYYMMDDTHHMMSSZ`). */
  amzDate: string;
  /** All headers as sent (lower-case names), including host and x-amz-* headers. */
  headers: Record<string, string>;
  signedHeaders: string;
  signature: string;
  canonicalRequest: string;
  stringToSign: string;
}

export const AWS4_ALGORITHM = 'AWS4-HMAC-SHA256';

/** `20150830T123600Z` */
export function toAmzDate(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

/** RFC 3986 encoding as SigV4 requires (encodeURIComponent leaves `!'()*` alone). */
function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, c => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function sha256Hex(data: string): string {
  return createHash('sha256').update(data, 'utf8').digest('hex');
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

/** Trim and collapse runs of whitespace, per the canonical header rules. */
function canonicalHeaderValue(value: string): string {
  return value.trim().replace(/\s+/g, ' ');
}

export function signV4(request: SigV4Request): SignedRequest {
  const amzDate = toAmzDate(request.date);
  const day = amzDate.slice(0, 8);

  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) headers[name.toLowerCase()] = canonicalHeaderValue(value);
  headers.host = canonicalHeaderValue(request.host);
  headers['x-amz-date'] = amzDate;
  if (request.credentials.sessionToken) headers['x-amz-security-token'] = canonicalHeaderValue(request.credentials.sessionToken);

  const names = Object.keys(headers).sort();
  const canonicalHeaders = names.map(name => `${name}:${headers[name]}\n`).join('');
  const signedHeaders = names.join(';');
  const canonicalQuery = Object.entries(request.query ?? {})
    .map(([k, v]) => [uriEncode(k), uriEncode(v)] as const)
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');

  const canonicalRequest = [
    request.method.toUpperCase(),
    request.path,
    canonicalQuery,
    canonicalHeaders,
    signedHeaders,
    sha256Hex(request.body)
  ].join('\n');

  const scope = `${day}/${request.region}/${request.service}/aws4_request`;
  const stringToSign = [AWS4_ALGORITHM, amzDate, scope, sha256Hex(canonicalRequest)].join('\n');

  const dateKey = hmac(`AWS4${request.credentials.secretAccessKey}`, day);
  const regionKey = hmac(dateKey, request.region);
  const serviceKey = hmac(regionKey, request.service);
  const signingKey = hmac(serviceKey, 'aws4_request');
  const signature = createHmac('sha256', signingKey).update(stringToSign, 'utf8').digest('hex');

  const authorization = `${AWS4_ALGORITHM} Credential=${request.credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
  return { authorization, amzDate, headers, signedHeaders, signature, canonicalRequest, stringToSign };
}
