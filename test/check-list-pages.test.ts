import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listQuery } from '../src/api/check-list.js';
import { loadDaemonApi, type DaemonApi } from './support/daemon-api.js';
import { startTcpPeer } from './support/tcp-peer.js';

const CHECKS = 1200;
const PREFIXES = ['db', 'web', 'edge'];

interface ListAnswer {
  checks: { name: string; status: string }[];
  total: number;
  next?: string;
  reload?: { ok: boolean };
}

/** db-0000, web-0001, edge-0002, ...: three name prefixes to filter on. */
const nameOf = (i: number) => `${PREFIXES[i % 3] ?? 'db'}-${String(i).padStart(4, '0')}`;
/** Every 40th check fails once run (closed port), every 60th (not a 40th) passes; the rest never run. */
const failing = (i: number) => i % 40 === 0;
const passing = (i: number) => i % 60 === 30;

/** Written out of name order, so an answer in name order was sorted, not read off the file. */
function checksFile(indexes: readonly number[], ports: { open: number; closed: number }): string {
  const shuffled = [...indexes].sort((a, b) => ((a * 7919) % CHECKS) - ((b * 7919) % CHECKS) || a - b);
  const lines = shuffled.map((i) => `  - { name: ${nameOf(i)}, type: tcp, host: 127.0.0.1, port: ${passing(i) ? ports.open : ports.closed} }`);
  return `defaults:\n  interval: 24h\n  timeout: 2s\nchecks:\n${lines.join('\n')}\n`;
}

describe('paged lists: /api/v1/checks and the status page at 1,200 checks', { timeout: 120_000 }, () => {
  let peer: Awaited<ReturnType<typeof startTcpPeer>>;
  let dir: string;
  let file: string;
  let api: DaemonApi;
  const all = Array.from({ length: CHECKS }, (_, i) => i);
  const sortedNames = all.map(nameOf).sort();
  const failingNames = all.filter(failing).map(nameOf).sort();
  const passingNames = all.filter(passing).map(nameOf).sort();

  const list = async (query = '') => {
    const res = await api.app.inject(`/api/v1/checks${query}`);
    expect(res.statusCode, `${query}: ${res.body.slice(0, 300)}`).toBe(200);
    return res.json<ListAnswer>();
  };
  /** Follows next from the first page; the names of each page. */
  const everyPage = async (query: string) => {
    const pages: ListAnswer[] = [];
    let cursor: string | undefined;
    do {
      const page = await list(`?${query}${cursor === undefined ? '' : `&cursor=${cursor}`}`);
      pages.push(page);
      cursor = page.next;
    } while (cursor !== undefined && pages.length < 10);
    return pages;
  };
  const refused = async (query: string) => {
    const res = await api.app.inject(`/api/v1/checks${query}`);
    expect(res.statusCode, query).toBe(400);
    return res.json<{ code: string; message: string }>();
  };

  beforeAll(async () => {
    peer = await startTcpPeer();
    dir = await mkdtemp(join(tmpdir(), 'driftwatch-pages-'));
    file = join(dir, 'checks.yaml');
    await writeFile(file, checksFile(all, { open: peer.port, closed: peer.closedPort }));
    // Not started: nothing runs on a schedule; the runs below are the only ones.
    api = await loadDaemonApi([file]);
    for (const i of all.filter((n) => failing(n) || passing(n))) {
      expect((await api.app.inject({ method: 'POST', url: `/api/v1/checks/${nameOf(i)}/run` })).statusCode).toBe(200);
    }
  });

  afterAll(async () => {
    await api.close();
    await peer.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers 500 checks by default, in name order, with the total and a cursor', async () => {
    const first = await list();
    expect(first.checks).toHaveLength(500);
    expect(first.checks.map((c) => c.name)).toEqual(sortedNames.slice(0, 500));
    expect(first.total).toBe(CHECKS);
    expect(typeof first.next).toBe('string');
    expect(first.reload).toMatchObject({ ok: true });
  });

  it('visits every check exactly once by following next; the last page has none', async () => {
    const pages = await everyPage('limit=500');
    expect(pages.map((p) => p.checks.length)).toEqual([500, 500, 200]);
    expect(pages.map((p) => p.next === undefined)).toEqual([false, false, true]);
    expect(pages.map((p) => p.total)).toEqual([CHECKS, CHECKS, CHECKS]);
    expect(pages.flatMap((p) => p.checks.map((c) => c.name))).toEqual(sortedNames);
    expect(await list('?limit=1000')).toMatchObject({ total: CHECKS, checks: { length: 1000 } });
  });

  it('refuses (does not cap) a limit over 1,000, and says what is wrong with bad parameters', async () => {
    expect(await refused('?limit=1001')).toEqual({ error: 'bad request', code: 'DRIFTWATCH_BAD_QUERY', message: 'limit: at most 1000 checks a page; follow next for the rest' });
    for (const limit of ['0', '-1', 'ten', '1.5', '']) {
      expect((await refused(`?limit=${limit}`)).message, limit).toBe('limit: expected a whole number from 1 to 1000, like limit=500');
    }
    expect((await refused('?limit=5&limit=6')).message).toBe('limit: expected one whole number from 1 to 1000, like limit=500');
    for (const cursor of ['!!', 'ZGJ', 'ZGI=']) {
      expect((await refused(`?cursor=${cursor}`)).message, cursor).toBe("cursor: not a cursor this API gave out: pass the previous answer's next unchanged");
    }
    expect((await refused('?status=broken')).message).toBe('status: expected failing, converging, maintenance, blocked, pending, ok (several separated by commas), like status=failing');
    expect((await refused('?page=2')).message).toBe('query: unknown parameter page (accepted: limit, cursor, status, name)');
    expect((await refused('?limit=0&status=up')).message).toBe('limit: expected a whole number from 1 to 1000, like limit=500; status: expected failing, converging, maintenance, blocked, pending, ok (several separated by commas), like status=failing');
  });

  it('filters by status and by name prefix, the total counting what matches', async () => {
    const failingOnly = await list('?status=failing');
    expect(failingOnly.checks.map((c) => c.name)).toEqual(failingNames);
    expect(failingOnly.checks.every((c) => c.status === 'failing')).toBe(true);
    expect(failingOnly).toMatchObject({ total: failingNames.length });
    expect(failingOnly.next).toBeUndefined();

    const troubled = [...failingNames, ...passingNames].sort();
    expect((await list('?status=failing,ok')).checks.map((c) => c.name)).toEqual(troubled);
    expect((await list('?status=failing&status=ok')).checks.map((c) => c.name)).toEqual(troubled);

    const pending = await everyPage('status=pending&limit=400');
    const pendingNames = sortedNames.filter((name) => !troubled.includes(name));
    expect(pending.flatMap((p) => p.checks.map((c) => c.name))).toEqual(pendingNames);
    expect(pending.map((p) => p.total)).toEqual([pendingNames.length, pendingNames.length, pendingNames.length]);

    const db = await everyPage('name=db-&limit=300');
    expect(db.flatMap((p) => p.checks.map((c) => c.name))).toEqual(sortedNames.filter((name) => name.startsWith('db-')));
    expect(db[0]?.total).toBe(CHECKS / 3);
    expect((await list('?name=db-&status=failing')).checks.map((c) => c.name)).toEqual(failingNames.filter((name) => name.startsWith('db-')));
    expect(await list('?name=nothing-')).toEqual(expect.objectContaining({ checks: [], total: 0 }));
  });

  it('is documented in the OpenAPI document as it answers', async () => {
    const doc = (await api.app.inject('/api/v1/openapi.json')).json<{
      paths: Record<string, { get?: { parameters?: { name: string; in: string; schema: { maximum?: number; default?: number } }[]; responses: Record<string, unknown> } }>;
      components: { schemas: { CheckList: { required: string[]; properties: Record<string, unknown> } } };
    }>();
    const route = doc.paths['/api/v1/checks']?.get;
    expect(route?.parameters?.map((p) => `${p.in}:${p.name}`).sort()).toEqual(Object.keys(listQuery.shape).map((key) => `query:${key}`).sort());
    expect(route?.parameters?.find((p) => p.name === 'limit')?.schema).toMatchObject({ maximum: 1000, default: 500 });
    expect(Object.keys(route?.responses ?? {})).toEqual(['200', '400']);
    const { required, properties } = doc.components.schemas.CheckList;
    for (const answer of [await list('?limit=10'), await list('?status=failing')]) {
      for (const key of required) expect(answer, key).toHaveProperty(key);
      for (const key of Object.keys(answer)) expect(properties, key).toHaveProperty(key);
    }
    expect(Object.keys(properties).sort()).toEqual(['checks', 'next', 'reload', 'total']);
  });

  it('shows counts of every check and one page of rows on the status page, failing first', async () => {
    const rowsOf = (body: string) => [...body.matchAll(/data-check="([^"]+)" data-status="([^"]+)"/g)].map((m) => ({ name: m[1] ?? '', status: m[2] ?? '' }));
    const pendingCount = CHECKS - failingNames.length - passingNames.length;
    const page = async (query: string) => {
      const res = await api.app.inject(`/${query}`);
      expect(res.statusCode, query).toBe(200);
      expect(res.body, query).toContain(`<li class="failing some">${failingNames.length} failing</li>`);
      expect(res.body, query).toContain(`<li class="ok some">${passingNames.length} ok</li>`);
      expect(res.body, query).toContain(`<li class="pending">${pendingCount} pending</li>`);
      expect(res.body, query).toContain(`<h1>${failingNames.length} of ${CHECKS} checks failing</h1>`);
      return res.body;
    };
    const first = await page('');
    const rows = rowsOf(first);
    expect(rows).toHaveLength(500);
    expect(rows.slice(0, failingNames.length)).toEqual(failingNames.map((name) => ({ name, status: 'failing' })));
    expect(rows.slice(failingNames.length).every((r) => r.status === 'pending')).toBe(true);
    expect(first).toContain('<a rel="next" href="/?page=2">');
    expect(first).not.toContain('rel="prev"');
    expect(first).toContain('checks 1-500 of 1,200, failing first (page 1 of 3)');

    const second = await page('?page=2');
    expect(rowsOf(second)).toHaveLength(500);
    expect(second).toContain('<a rel="prev" href="/">');
    expect(second).toContain('<a rel="next" href="/?page=3">');
    const third = await page('?page=3');
    expect(third).not.toContain('rel="next"');
    expect(rowsOf(third).slice(-passingNames.length)).toEqual(passingNames.map((name) => ({ name, status: 'ok' })));
    const seen = [first, second, third].flatMap((body) => rowsOf(body).map((r) => r.name));
    expect(seen).toHaveLength(CHECKS);
    expect([...seen].sort()).toEqual(sortedNames);

    expect(rowsOf(await page('?page=99'))).toEqual(rowsOf(third));
    const bad = await api.app.inject('/?page=two');
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('<h1>No such page</h1>');
  });

  it('keeps paging exact while checks are added and removed between pages', async () => {
    const first = await list('?limit=500');
    const lastSeen = first.checks.at(-1)?.name ?? '';
    const seenBefore = sortedNames.filter((name) => name <= lastSeen);
    const notYet = sortedNames.filter((name) => name > lastSeen);
    // Remove ten checks already listed and ten not yet listed; add checks on both sides of the cursor.
    const removed = new Set([...seenBefore.filter((_, i) => i % 50 === 7), ...notYet.filter((_, i) => i % 70 === 3)]);
    const kept = all.filter((i) => !removed.has(nameOf(i)));
    const added = ['aaa-new', 'db-0000a', 'zzz-new', `${lastSeen}-after`];
    await writeFile(file, `${checksFile(kept, { open: peer.port, closed: peer.closedPort })}${added.map((name) => `  - { name: ${name}, type: tcp, host: 127.0.0.1, port: ${peer.closedPort} }`).join('\n')}\n`);
    expect((await api.daemon.reload()).ok).toBe(true);

    const rest: string[] = [];
    let cursor = first.next;
    for (let pages = 0; cursor !== undefined && pages < 10; pages++) {
      const page = await list(`?limit=500&cursor=${cursor}`);
      rest.push(...page.checks.map((c) => c.name));
      cursor = page.next;
    }
    const expected = [...notYet.filter((name) => !removed.has(name)), `${lastSeen}-after`, 'zzz-new'].sort();
    expect(rest).toEqual(expected);
    // Nothing seen twice, and every check that existed throughout was seen once.
    const visited = [...first.checks.map((c) => c.name), ...rest];
    expect(new Set(visited).size).toBe(visited.length);
    for (const name of sortedNames.filter((n) => !removed.has(n))) expect(visited, name).toContain(name);
  });
});
