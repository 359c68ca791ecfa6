/**
 * MongoLogger configuration (logging spec): environment variables, client options and their
 * precedence, invalid values, severity thresholds, destinations and write failures.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MongoInvalidArgumentError } from '../../src/errors';
import {
  DEFAULT_MAX_DOCUMENT_LENGTH,
  MongoLogger,
  formatLogLine,
  parseSeverity,
  resolveMongoLoggerOptions,
  splitLoggerOptions,
  type Log,
  type MongoLoggerMongoClientOptions
} from '../../src/logger';

const ALL_SEVERITIES = ['emergency', 'alert', 'critical', 'error', 'warn', 'notice', 'info', 'debug', 'trace'] as const;

function collector(): { logs: Log[]; options: MongoLoggerMongoClientOptions } {
  const logs: Log[] = [];
  return { logs, options: { mongodbLogPath: { write: (log: Log) => void logs.push(log) } } };
}

describe('severity levels', () => {
  test('every spec level name parses case-insensitively; anything else is null', () => {
    for (const level of [...ALL_SEVERITIES, 'off']) {
      expect(parseSeverity(level)).toBe(level);
      expect(parseSeverity(level.toUpperCase())).toBe(level);
    }
    for (const bad of ['warning', 'information', 'verbose', '', ' debug', 'toString', '__proto__', undefined, 7]) {
      expect(parseSeverity(bad)).toBeNull();
    }
  });

  test('a component at level L logs L and every more severe level, nothing less severe', () => {
    for (const [i, threshold] of ALL_SEVERITIES.entries()) {
      const logger = new MongoLogger(resolveMongoLoggerOptions({ MONGODB_LOG_COMMAND: threshold }));
      for (const [j, level] of ALL_SEVERITIES.entries()) {
        expect([threshold, level, logger.willLog('command', level)]).toEqual([threshold, level, j <= i]);
      }
      expect(logger.willLog('command', 'off')).toBe(false);
      expect(logger.willLog('topology', 'emergency')).toBe(false);
    }
  });

  test('off logs nothing; the default is off for every component', () => {
    const off = new MongoLogger(resolveMongoLoggerOptions({ MONGODB_LOG_ALL: 'off' }));
    const none = new MongoLogger(resolveMongoLoggerOptions({}));
    for (const logger of [off, none]) {
      expect(logger.enabled).toBe(false);
      for (const c of ['command', 'topology', 'serverSelection', 'connection'] as const) {
        for (const s of ALL_SEVERITIES) expect(logger.willLog(c, s)).toBe(false);
      }
    }
  });
});

describe('environment variables', () => {
  test('one variable per component', () => {
    const options = resolveMongoLoggerOptions({
      MONGODB_LOG_COMMAND: 'debug',
      MONGODB_LOG_TOPOLOGY: 'info',
      MONGODB_LOG_SERVER_SELECTION: 'TRACE',
      MONGODB_LOG_CONNECTION: 'Error'
    });
    expect(options.componentSeverities).toEqual({ command: 'debug', topology: 'info', serverSelection: 'trace', connection: 'error' });
  });

  test('MONGODB_LOG_ALL sets every component; a component variable takes precedence', () => {
    expect(resolveMongoLoggerOptions({ MONGODB_LOG_ALL: 'debug' }).componentSeverities).toEqual({
      command: 'debug',
      topology: 'debug',
      serverSelection: 'debug',
      connection: 'debug'
    });
    expect(resolveMongoLoggerOptions({ MONGODB_LOG_ALL: 'debug', MONGODB_LOG_TOPOLOGY: 'off' }).componentSeverities).toEqual({
      command: 'debug',
      topology: 'off',
      serverSelection: 'debug',
      connection: 'debug'
    });
  });

  test('invalid values are treated as unset, never thrown', () => {
    const options = resolveMongoLoggerOptions({
      MONGODB_LOG_ALL: 'info',
      MONGODB_LOG_COMMAND: 'loud',
      MONGODB_LOG_CONNECTION: '',
      MONGODB_LOG_MAX_DOCUMENT_LENGTH: 'big'
    });
    expect(options.componentSeverities.command).toBe('info');
    expect(options.componentSeverities.connection).toBe('info');
    expect(options.maxDocumentLength).toBe(DEFAULT_MAX_DOCUMENT_LENGTH);
    expect(resolveMongoLoggerOptions({ MONGODB_LOG_COMMAND: 'nope' }).componentSeverities.command).toBe('off');
  });

  test('MONGODB_LOG_MAX_DOCUMENT_LENGTH: non-negative integers only, default 1000', () => {
    expect(resolveMongoLoggerOptions({}).maxDocumentLength).toBe(1000);
    expect(resolveMongoLoggerOptions({ MONGODB_LOG_MAX_DOCUMENT_LENGTH: '50' }).maxDocumentLength).toBe(50);
    expect(resolveMongoLoggerOptions({ MONGODB_LOG_MAX_DOCUMENT_LENGTH: '0' }).maxDocumentLength).toBe(0);
    for (const bad of ['-5', '1.5', '12abc', '', '1e3']) {
      expect(resolveMongoLoggerOptions({ MONGODB_LOG_MAX_DOCUMENT_LENGTH: bad }).maxDocumentLength).toBe(1000);
    }
  });

  test('MongoLogger.fromOptions reads process.env by default', () => {
    const saved = { ...process.env };
    try {
      process.env.MONGODB_LOG_SERVER_SELECTION = 'debug';
      process.env.MONGODB_LOG_MAX_DOCUMENT_LENGTH = '77';
      const logger = MongoLogger.fromOptions({ mongodbLogPath: { write: () => undefined } });
      expect(logger.willLog('serverSelection', 'debug')).toBe(true);
      expect(logger.willLog('command', 'emergency')).toBe(false);
      expect(logger.maxDocumentLength).toBe(77);
    } finally {
      process.env = saved;
    }
  });
});

describe('client options', () => {
  test('take precedence over the environment, per component and for the default', () => {
    const env = { MONGODB_LOG_ALL: 'error', MONGODB_LOG_COMMAND: 'info', MONGODB_LOG_MAX_DOCUMENT_LENGTH: '10' };
    const options = resolveMongoLoggerOptions(env, {
      mongodbLogComponentSeverities: { command: 'trace', default: 'warn' },
      mongodbLogMaxDocumentLength: 20
    });
    expect(options.componentSeverities).toEqual({ command: 'trace', topology: 'warn', serverSelection: 'warn', connection: 'warn' });
    expect(options.maxDocumentLength).toBe(20);
    // A component's own environment variable still beats the general client `default`
    // (component-specific settings win over general ones, as in the official driver).
    const mixed = resolveMongoLoggerOptions({ MONGODB_LOG_TOPOLOGY: 'debug' }, { mongodbLogComponentSeverities: { default: 'error' } });
    expect(mixed.componentSeverities.topology).toBe('debug');
    expect(mixed.componentSeverities.command).toBe('error');
  });

  test('an environment variable can override a programmatic default when the application wants it', () => {
    const env = { MONGODB_LOG_COMMAND: 'off' };
    const options = resolveMongoLoggerOptions(env, { mongodbLogComponentSeverities: { command: (env.MONGODB_LOG_COMMAND as 'off') ?? 'debug' } });
    expect(options.componentSeverities.command).toBe('off');
  });

  test('invalid client options throw MongoInvalidArgumentError', () => {
    const bad: unknown[] = [
      { mongodbLogComponentSeverities: { command: 'loud' } },
      { mongodbLogComponentSeverities: { storage: 'debug' } },
      { mongodbLogComponentSeverities: 'debug' },
      { mongodbLogMaxDocumentLength: -1 },
      { mongodbLogMaxDocumentLength: 1.5 },
      { mongodbLogMaxDocumentLength: '100' },
      { mongodbLogPath: 'stdot' },
      { mongodbLogPath: { writ: () => undefined } },
      { mongodbLogPath: 42 }
    ];
    for (const options of bad) {
      expect(() => resolveMongoLoggerOptions({}, options as MongoLoggerMongoClientOptions)).toThrow(MongoInvalidArgumentError);
    }
    expect(() => resolveMongoLoggerOptions({}, { mongodbLogPath: 'STDERR' as 'stderr', mongodbLogComponentSeverities: { command: 'DEBUG' as 'debug' } })).not.toThrow();
  });

  test('splitLoggerOptions separates the logging options from the rest', () => {
    const write = { write: () => undefined };
    const { logger, rest } = splitLoggerOptions({ appName: 'x', mongodbLogPath: write, mongodbLogMaxDocumentLength: 5 });
    expect(logger).toEqual({ mongodbLogPath: write, mongodbLogMaxDocumentLength: 5 });
    expect(rest).toEqual({ appName: 'x' });
  });
});

describe('messages and destinations', () => {
  test('a message carries t (Date), c, s and its fields; null and undefined fields are omitted', () => {
    const { logs, options } = collector();
    const logger = MongoLogger.fromOptions({ ...options, mongodbLogComponentSeverities: { command: 'debug' } }, {});
    logger.log('command', 'debug', { message: 'Command started', a: 1, b: null, c: undefined, d: '' });
    logger.log('command', 'trace', { message: 'too verbose' });
    logger.log('topology', 'debug', { message: 'component off' });
    expect(logs).toHaveLength(1);
    expect(logs[0].t).toBeInstanceOf(Date);
    expect(logs[0]).toEqual({ t: logs[0].t, c: 'command', s: 'debug', message: 'Command started', a: 1, d: '' });
    expect('b' in logs[0]).toBe(false);
  });

  test('stdout and stderr get one JSON line per message (case-insensitive names; stderr is the default)', () => {
    const out = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const err = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const severities = { mongodbLogComponentSeverities: { connection: 'debug' as const } };
      MongoLogger.fromOptions({ ...severities, mongodbLogPath: 'StdOut' as 'stdout' }, {}).log('connection', 'debug', { message: 'to stdout' });
      MongoLogger.fromOptions(severities, { MONGODB_LOG_PATH: 'STDOUT' }).log('connection', 'debug', { message: 'env stdout' });
      MongoLogger.fromOptions(severities, {}).log('connection', 'debug', { message: 'default stderr' });
      MongoLogger.fromOptions({ ...severities, mongodbLogPath: 'stderr' }, { MONGODB_LOG_PATH: 'stdout' }).log('connection', 'debug', {
        message: 'client option wins'
      });
      const outLines = out.mock.calls.map((c) => JSON.parse(String(c[0])) as Record<string, unknown>);
      const errLines = err.mock.calls.map((c) => JSON.parse(String(c[0])) as Record<string, unknown>);
      expect(outLines.map((l) => l.message)).toEqual(['to stdout', 'env stdout']);
      expect(errLines.map((l) => l.message)).toEqual(['default stderr', 'client option wins']);
      expect(errLines[0]).toMatchObject({ c: 'connection', s: 'debug' });
      expect(typeof errLines[0].t).toBe('string');
      expect(String(err.mock.calls[0][0]).endsWith('\n')).toBe(true);
    } finally {
      out.mockRestore();
      err.mockRestore();
    }
  });

  test('MONGODB_LOG_PATH as a file path: created if missing, appended to if it exists', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mongowire-log-'));
    const file = path.join(dir, 'driver.log');
    try {
      fs.writeFileSync(file, 'existing line\n');
      const env = { MONGODB_LOG_PATH: file, MONGODB_LOG_TOPOLOGY: 'debug' };
      const logger = MongoLogger.fromOptions({}, env);
      expect(logger.logDestinationKind).toBe('file');
      logger.log('topology', 'debug', { message: 'Starting topology monitoring', topologyId: 7 });
      logger.log('topology', 'debug', { message: 'Stopped topology monitoring', topologyId: 7 });
      const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
      expect(lines[0]).toBe('existing line');
      expect(lines.slice(1).map((l) => JSON.parse(l) as Record<string, unknown>)).toEqual([
        expect.objectContaining({ c: 'topology', s: 'debug', message: 'Starting topology monitoring', topologyId: 7 }),
        expect.objectContaining({ message: 'Stopped topology monitoring' })
      ]);
      const created = path.join(dir, 'new.log');
      MongoLogger.fromOptions({}, { MONGODB_LOG_PATH: created, MONGODB_LOG_ALL: 'info' }).log('serverSelection', 'info', { message: 'Waiting' });
      expect(JSON.parse(fs.readFileSync(created, 'utf8'))).toMatchObject({ c: 'serverSelection', s: 'info', message: 'Waiting' });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('an unusable MONGODB_LOG_PATH falls back to stderr without throwing', () => {
    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const err = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const logger = MongoLogger.fromOptions({}, { MONGODB_LOG_PATH: '/nonexistent-dir-mongowire/x/y.log', MONGODB_LOG_COMMAND: 'debug' });
      expect(logger.logDestinationKind).toBe('stderr');
      logger.log('command', 'debug', { message: 'Command started' });
      expect(err).toHaveBeenCalledTimes(1);
      expect(warn).toHaveBeenCalledTimes(1);
    } finally {
      warn.mockRestore();
      err.mockRestore();
    }
  });

  test('with every component off, MONGODB_LOG_PATH is not touched (no file is created)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mongowire-log-'));
    const file = path.join(dir, 'never.log');
    try {
      const logger = MongoLogger.fromOptions({}, { MONGODB_LOG_PATH: file });
      expect(logger.enabled).toBe(false);
      expect(fs.existsSync(file)).toBe(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('formatLogLine: JSON with ISO date and bigints as strings', () => {
    const line = formatLogLine({ t: new Date(0), c: 'command', s: 'debug', message: 'm', serverConnectionId: 5n });
    expect(line).toBe('{"t":"1970-01-01T00:00:00.000Z","c":"command","s":"debug","message":"m","serverConnectionId":"5"}\n');
  });

  test('a destination returning promises gets messages in order, one at a time', async () => {
    const order: string[] = [];
    let inFlight = 0;
    const logger = MongoLogger.fromOptions(
      {
        mongodbLogComponentSeverities: { command: 'debug' },
        mongodbLogPath: {
          write: async (log: Log) => {
            inFlight++;
            expect(inFlight).toBe(1);
            await new Promise((resolve) => setTimeout(resolve, 5 - order.length));
            order.push(log.message);
            inFlight--;
          }
        }
      },
      {}
    );
    for (const m of ['a', 'b', 'c', 'd']) logger.log('command', 'debug', { message: m });
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(order).toEqual(['a', 'b', 'c', 'd']);
  });

  test('a failing destination never throws into the driver: logging is turned off with one warning', async () => {
    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      let calls = 0;
      const sync = MongoLogger.fromOptions(
        { mongodbLogComponentSeverities: { default: 'debug' }, mongodbLogPath: { write: () => { calls++; throw new Error('disk full'); } } },
        {}
      );
      expect(() => sync.log('command', 'debug', { message: 'x' })).not.toThrow();
      sync.log('command', 'debug', { message: 'y' });
      expect(calls).toBe(1);
      expect(sync.enabled).toBe(false);

      const async = MongoLogger.fromOptions(
        { mongodbLogComponentSeverities: { default: 'debug' }, mongodbLogPath: { write: () => Promise.reject(new Error('remote sink down')) } },
        {}
      );
      async.log('connection', 'debug', { message: 'x' });
      await new Promise((resolve) => setImmediate(resolve));
      expect(async.willLog('connection', 'debug')).toBe(false);
      expect(warn).toHaveBeenCalledTimes(2);
      expect(String(warn.mock.calls[1][0])).toContain('remote sink down');
    } finally {
      warn.mockRestore();
    }
  });
});

describe('MongoClient options', () => {
  // Imported lazily so the configuration tests above do not load the client.
  const load = async () => (await import('../../src/mongo_client')).MongoClient;

  test('invalid logging options throw at construction', async () => {
    const MongoClient = await load();
    expect(() => new MongoClient('mongodb://localhost/', { mongodbLogComponentSeverities: { command: 'loud' as 'debug' } })).toThrow(
      MongoInvalidArgumentError
    );
    expect(() => new MongoClient('mongodb://localhost/', { mongodbLogMaxDocumentLength: -3 })).toThrow(MongoInvalidArgumentError);
  });

  test('the logging options are accepted without "unsupported option" warnings and appear in client.options', async () => {
    const MongoClient = await load();
    const warn = jest.spyOn(process, 'emitWarning');
    try {
      const write = { write: () => undefined };
      const client = new MongoClient('mongodb://localhost/', {
        mongodbLogPath: write,
        mongodbLogComponentSeverities: { topology: 'info' },
        mongodbLogMaxDocumentLength: 64
      });
      expect(client.options.mongodbLogPath).toBe(write);
      expect(client.options.mongodbLogComponentSeverities).toEqual({ topology: 'info' });
      expect(client.options.mongodbLogMaxDocumentLength).toBe(64);
      expect(client.options.warnings).toEqual([]);
      expect(warn).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
    }
  });
});
