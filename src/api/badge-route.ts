import type { FastifyInstance, preHandlerAsyncHookHandler } from 'fastify';
import { z } from 'zod';
import { badgeSvg, type Badge } from './badge.js';
import { checkStatus } from './check-view.js';
import { formatMs } from './html.js';
import type { CheckEntry, ServedDaemon } from './served-daemon.js';
import { formatUptime, uptimesFor, type UptimeSource } from './uptime.js';

const nameParams = z.object({ name: z.string() });
const badgeQuery = z.object({ kind: z.enum(['health', 'uptime', 'duration']).default('health') });
/** A badge may be a minute old: READMEs are read far more often than checks change. */
const MAX_AGE_S = 60;

export interface BadgeRouteOptions {
  /** Badges readable without a token (--public-badges); otherwise auth as the rest of the API. */
  public: boolean;
  uptime: UptimeSource | undefined;
}

/**
 * GET /api/v1/checks/:name/badge.svg?kind=health|uptime|duration. Errors are SVG badges too
 * (404 "not found", 400 "bad kind"), so a README's image shows what went wrong. A badge carries
 * the check's name, state, uptime or duration: never a message, target or header.
 */
export function registerBadgeRoute(app: FastifyInstance, daemon: ServedDaemon, auth: preHandlerAsyncHookHandler, options: BadgeRouteOptions): void {
  app.get('/api/v1/checks/:name/badge.svg', { ...(!options.public && { preHandler: auth }) }, async (request, reply) => {
    const { name } = nameParams.parse(request.params);
    const query = badgeQuery.safeParse(request.query);
    const entry = daemon.state.get(name);
    const [status, badge]: [number, Badge] = !query.success
      ? [400, { label: 'badge', value: 'kind: health, uptime or duration', colour: 'grey' }]
      : !entry
        ? [404, { label: name, value: 'check not found', colour: 'grey' }]
        : [200, await badgeFor(entry, query.data.kind, options.uptime)];
    return reply
      .code(status)
      .header('content-type', 'image/svg+xml; charset=utf-8')
      .header('cache-control', status === 200 ? `${options.public ? 'public' : 'private'}, max-age=${MAX_AGE_S}` : 'no-store')
      .header('x-content-type-options', 'nosniff')
      .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'")
      .send(badgeSvg(badge));
  });
}

async function badgeFor(entry: CheckEntry, kind: 'health' | 'uptime' | 'duration', source: UptimeSource | undefined): Promise<Badge> {
  const label = entry.check.spec.name;
  if (kind === 'health') {
    const status = checkStatus(entry);
    const colour = status === 'ok' ? 'green' : status === 'failing' ? 'red' : status === 'blocked' || status === 'converging' ? 'orange' : status === 'maintenance' ? 'blue' : 'grey';
    return { label, value: status === 'ok' ? 'passing' : status, colour };
  }
  if (kind === 'duration') {
    const last = entry.last;
    return last === undefined ? { label: `${label} time`, value: 'no runs', colour: 'grey' } : { label: `${label} time`, value: formatMs(last.durationMs), colour: 'blue' };
  }
  const now = Date.now();
  const answer = source === undefined ? undefined : await source.read([label], now);
  const figure = uptimesFor(label, entry.history.timings(), answer, now)['7d'];
  const ratio = figure.ratio;
  const colour = ratio === undefined ? 'grey' : ratio >= 0.99 ? 'green' : ratio >= 0.95 ? 'yellow' : ratio >= 0.9 ? 'orange' : 'red';
  return { label: `${label} uptime 7d`, value: formatUptime(ratio), colour };
}
