import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startChild, waitForHttp, type Child } from './child.js';
import { freePort } from './ports.js';

export const NGINX = '/usr/sbin/nginx';
/** The static file both probers fetch: small, so the figures are per-request overhead. */
export const SMALL_FILE = '/small.txt';

export interface Nginx {
  child: Child;
  port: number;
  url(path?: string): string;
}

/** nginx on 127.0.0.1 serving one small static file: one worker, no access log, fresh connections welcome. */
export async function startNginx(dir: string): Promise<Nginx> {
  const home = join(dir, 'nginx');
  await mkdir(join(home, 'www'), { recursive: true });
  await writeFile(join(home, 'www', SMALL_FILE.slice(1)), `${'driftwatch bench: a small static file. '.repeat(6)}\n`);
  const port = await freePort();
  const conf = join(home, 'nginx.conf');
  const temp = (name: string) => `${name}_temp_path ${join(home, name)};`;
  await writeFile(
    conf,
    [
      // As root the workers would drop to nobody, who cannot read a 0700 temp dir.
      process.getuid?.() === 0 ? 'user root;' : '',
      'worker_processes 1;',
      'daemon off;',
      `pid ${join(home, 'nginx.pid')};`,
      `error_log ${join(home, 'error.log')} warn;`,
      'events { worker_connections 4096; }',
      'http {',
      '  access_log off;',
      '  default_type text/plain;',
      `  ${temp('client_body')} ${temp('proxy')} ${temp('fastcgi')} ${temp('uwsgi')} ${temp('scgi')}`,
      '  server {',
      `    listen 127.0.0.1:${port} backlog=4096;`,
      `    root ${join(home, 'www')};`,
      '  }',
      '}',
      '',
    ].join('\n'),
  );
  const child = startChild({ name: 'nginx', command: NGINX, args: ['-p', home, '-c', conf], logFile: join(home, 'stderr.log') });
  const url = (path = SMALL_FILE) => `http://127.0.0.1:${port}${path}`;
  await waitForHttp(child, url());
  return { child, port, url };
}
