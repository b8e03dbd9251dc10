import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { formatProblem, type Problem } from '../src/config/problem.js';
import { checkTypes } from '../src/checks/registry.js';
import { parseCheckFile } from '../src/config/load.js';
import { startHttpPeer, type HttpPeer } from './peers/https.js';
import { runYaml } from './support/checks.js';
import { PeerSet } from './support/peers.js';

/**
 * What the http, ingress and openapi checks refuse in their request: credentials in the URL
 * (not sent, and shown wherever the URL is), and header values node:http cannot send (a CR or
 * LF would split the request), inline when the file is loaded, from a secret when it is read.
 */
const PASSWORD = 'canary-userinfo-pw';
const HEADER_RULE = 'a header value holds only visible characters, spaces and tabs (no CR, LF or other control characters)';
const TYPES = [
  ['http', ''],
  ['ingress', ', ingress: [127.0.0.2]'],
  ['openapi', ''],
] as const;

function problemsOf(yaml: string): string[] {
  const problems: Problem[] = [];
  parseCheckFile('t.yaml', yaml, problems, checkTypes);
  return problems.map(formatProblem);
}

describe('credentials in a URL', () => {
  it.each(TYPES)('are refused in the %s check, pointing at headers, without printing them', (type, extra) => {
    const problems = problemsOf(`checks:\n  - name: hub\n    type: ${type}\n    url: "https://probe:${PASSWORD}@hub.example.com/"${extra ? `\n    ${extra.slice(2)}` : ''}\n`);
    expect(problems).toEqual([
      't.yaml:4:10: checks[0].url: the URL holds credentials (user:password@), which would be shown and are not sent: give them in headers as a secret reference, e.g. Authorization: { env: NAME }',
    ]);
    expect(problems.join('')).not.toContain(PASSWORD);
  });

  it('a user name alone is refused too', () => {
    expect(problemsOf('checks:\n  - { name: hub, type: http, url: "https://probe@hub.example.com/" }\n')).toEqual([expect.stringContaining('checks[0].url: the URL holds credentials')]);
  });
});

describe('maxBodyBytes', () => {
  it.each(TYPES)('is at most 64 MiB in the %s check', (type, extra) => {
    const yaml = (bytes: number) => `checks:\n  - { name: hub, type: ${type}, url: "https://hub.example.com/"${extra}, maxBodyBytes: ${bytes} }\n`;
    expect(problemsOf(yaml(1e9))).toEqual([expect.stringMatching(/^t\.yaml:2:\d+: checks\[0\]\.maxBodyBytes: at most 67108864 \(64 MiB\): the body is held in memory \(got 1000000000\)$/)]);
    expect(problemsOf(yaml(64 * 1024 * 1024))).toEqual([]);
  });
});

describe('header values node:http cannot send', () => {
  it.each([
    ['CR LF', 'ok\\r\\nX-Injected: yes'],
    ['LF', 'ok\\nmore'],
    ['NUL', 'ok\\0'],
    ['a character beyond Latin-1', 'snow \\u2603'],
  ])('an inline value with %s is a validation error at the value', (_kind, escaped) => {
    for (const [type, extra] of TYPES) {
      const problems = problemsOf(`checks:\n  - { name: hub, type: ${type}, url: "https://hub.example.com/"${extra}, headers: { X-Trace: "${escaped}" } }\n`);
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(new RegExp(`^t\\.yaml:2:\\d+: checks\\[0\\]\\.headers\\.X-Trace: ${HEADER_RULE.replace(/[()]/g, '\\$&')}$`));
    }
  });

  it('tabs and Latin-1 are fine', () => {
    expect(problemsOf('checks:\n  - { name: hub, type: http, url: "https://hub.example.com/", headers: { X-Trace: "a\\tb caf\\u00e9" } }\n')).toEqual([]);
  });
});

describe('a secret header value with a line break', () => {
  const ENV = 'DW_TEST_CRLF_SECRET';
  let peer: HttpPeer;
  const peers = new PeerSet();

  beforeAll(async () => {
    peer = await peers.start(startHttpPeer({ host: '127.0.0.2', routes: { '/': { body: 'ok' } } }));
    process.env[ENV] = `Bearer ${PASSWORD}\r\nX-Injected: yes`;
  });

  afterAll(async () => {
    Reflect.deleteProperty(process.env, ENV);
    await peers.closeAll();
  });

  it.each(TYPES)('fails the %s check with reason config, naming the header and the source, never the value; nothing is sent', async (type) => {
    const before = peer.requests.length;
    const target = type === 'ingress' ? { url: peer.url('/', 'hub.driftwatch.test'), ingress: ['127.0.0.2'], resolvers: ['127.0.0.1:1'] } : { url: peer.url('/') };
    const { result } = await runYaml(stringify({ checks: [{ name: 'hub', type, ...target, headers: { Authorization: { env: ENV } } }] }));
    expect(result).toMatchObject({
      ok: false,
      reason: 'config',
      message: `header Authorization: the secret from env ${ENV} cannot be sent: ${HEADER_RULE}`,
    });
    expect(JSON.stringify(result)).not.toContain(PASSWORD);
    expect(peer.requests).toHaveLength(before);
  });
});
