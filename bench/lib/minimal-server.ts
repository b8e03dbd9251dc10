/**
 * The anchor issue 29 measured driftwatch against: a minimal fastify server doing one fresh GET
 * per request (or one DNS question on a fresh UDP socket), nothing else. What any Node /probe
 * server pays before it does anything of its own, so the probe scenario prints driftwatch's CPU
 * and allocation per probe beside it, same load, same meter (started with alloc-meter.ts as a
 * preload, like driftwatch serve). Compiled by build.ts, started by probe-scenario.ts.
 *
 * Args: --port P --http URL --dns HOST:PORT --name NAME
 *   GET /probe?kind=http|dns answers `probe_success 1` or `probe_success 0`; GET /healthz 200.
 */
import { parseArgs } from 'node:util';
import Fastify from 'fastify';
import { queryOnce } from './dns-ping.js';
import { httpGetOnce } from './http-once.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    http: { type: 'string', default: '' },
    dns: { type: 'string', default: '127.0.0.1:53' },
    name: { type: 'string', default: 'bench.example' },
  },
});
const [dnsHost = '127.0.0.1', dnsPort = '53'] = values.dns.split(':');

const app = Fastify({ logger: false });
app.get('/healthz', () => 'ok\n');
app.get<{ Querystring: { kind?: string } }>('/probe', async (req) => {
  let ok: boolean;
  if (req.query.kind === 'dns') {
    const answer = await queryOnce(dnsHost, Number(dnsPort), values.name, 'A', 5000);
    ok = answer?.rcode === 'NOERROR' && answer.answers > 0;
  } else {
    ok = (await new Promise<number>((resolve) => {
      httpGetOnce(values.http, resolve);
    })) === 200;
  }
  return `probe_success ${ok ? 1 : 0}\n`;
});
await app.listen({ host: '127.0.0.1', port: Number(values.port) });
process.on('SIGTERM', () => {
  void app.close().then(() => process.exit(0));
});
