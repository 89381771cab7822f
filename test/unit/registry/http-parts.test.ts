import { formatAccessRecord } from '../../../src/registry/access-log';
import { parseRange } from '../../../src/registry/endpoints';
import { parseListen } from '../../../src/registry/server';

describe('Range of a blob GET', () => {
  test.each([
    [undefined, undefined],
    ['bytes=0-9', { start: 0, end: 9 }],
    ['bytes=5-', { start: 5, end: 99 }],
    ['bytes=90-200', { start: 90, end: 99 }],
    ['bytes=-10', { start: 90, end: 99 }],
    ['bytes=-200', { start: 0, end: 99 }],
    ['bytes=100-', 'unsatisfiable'],
    ['bytes=-0', 'unsatisfiable'],
    ['bytes=9-5', undefined],
    ['bytes=0-1,5-6', undefined],
    ['items=0-1', undefined],
  ])('%s of 100 bytes: %j', (header, expected) => {
    expect(parseRange(header, 100)).toEqual(expected);
  });
});

describe('--listen', () => {
  test.each([
    ['127.0.0.1:5000', { host: '127.0.0.1', port: 5000 }],
    [':5000', { host: '0.0.0.0', port: 5000 }],
    ['[::1]:0', { host: '::1', port: 0 }],
    ['localhost:8080', { host: 'localhost', port: 8080 }],
  ])('%s', (text, expected) => expect(parseListen(text)).toEqual(expected));
  test.each(['5000', '127.0.0.1', '127.0.0.1:70000', 'a b:1'])('%s is refused in words', (text) => {
    expect(() => parseListen(text)).toThrow(/--listen: .* is not ADDR:PORT/);
  });
});

describe('access log lines', () => {
  const record = {
    remote: '127.0.0.1',
    user: undefined,
    method: 'GET',
    target: '/v2/a/b\nfake="line"',
    status: 404,
    bytes: 12,
    durationMs: 1.234,
    agent: 'skopeo/1.9',
  };
  const time = new Date('2026-01-02T03:04:05.000Z');
  test('text: logfmt on one line, odd values quoted', () => {
    expect(formatAccessRecord(record, 'text', time)).toBe(
      'time=2026-01-02T03:04:05.000Z remote=127.0.0.1 user=- method=GET target="/v2/a/b\\nfake=\\"line\\"" status=404 bytes=12 duration_ms=1.2 agent=skopeo/1.9',
    );
  });
  test('json: one object', () => {
    expect(JSON.parse(formatAccessRecord(record, 'json', time))).toEqual({
      time: '2026-01-02T03:04:05.000Z',
      remote: '127.0.0.1',
      user: '-',
      method: 'GET',
      target: '/v2/a/b\nfake="line"',
      status: 404,
      bytes: 12,
      duration_ms: 1.2,
      agent: 'skopeo/1.9',
    });
  });
});
