import { unknownKeys, httpProbe, type HttpProbe } from './blackbox-config.js';
import { envName, ipProtocolOf, type Translation } from './blackbox-module.js';

const HTTP_VERSIONS = new Set(['HTTP/1.0', 'HTTP/1.1', 'HTTP/2.0']);
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
/** Header names whose values are credentials: written as secret references, never inline. */
const SECRET_HEADER = /^(authorization|proxy-authorization|cookie|x-api-key|api-key|x-auth-token)$/i;

/** A blackbox http module as the fields of an http check (name, type, timeout and target are the caller's). */
export function translateHttp(module: string, http: HttpProbe, out: Translation): Record<string, unknown> {
  const check: Record<string, unknown> = {};
  const expect: Record<string, unknown> = {};
  if (http.method !== undefined) {
    if (METHODS.has(http.method.toUpperCase())) check.method = http.method.toUpperCase();
    else out.untranslated.push(`method ${http.method}: driftwatch sends ${[...METHODS].join(', ')}`);
  }
  const headers: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(http.headers ?? {})) {
    if (SECRET_HEADER.test(name)) {
      const env = envName(module, name);
      headers[name] = { env };
      out.notes.push(`header ${name} was inline; it reads $${env} now (driftwatch never takes a secret inline): set it`);
    } else {
      headers[name] = value;
    }
  }
  if (Object.keys(headers).length > 0) check.headers = headers;
  if (http.body !== undefined) check.body = http.body;
  // blackbox follows redirects unless told not to; driftwatch's default is the other way round.
  check.followRedirects = http.follow_redirects ?? http.no_follow_redirects !== true;
  if (http.basic_auth) {
    const { username = '', password, password_file: file } = http.basic_auth;
    const env = envName(module, 'password');
    check.basicAuth = { username, password: file !== undefined ? { file } : { env } };
    if (file === undefined) out.notes.push(password === undefined ? `basic_auth has no password: it reads $${env}` : `basic_auth password was inline; it reads $${env} now (never inline): set it`);
    out.untranslated.push(...unknownKeys(http.basic_auth, { shape: { username: 0, password: 0, password_file: 0 } }).map((k) => `basic_auth.${k}: not supported`));
  }
  const tls = http.tls_config;
  if (tls) {
    if (tls.insecure_skip_verify === true) check.insecureSkipVerify = true;
    if (tls.ca_file !== undefined) check.ca = tls.ca_file;
    if (tls.server_name !== undefined) out.untranslated.push(`tls_config.server_name ${tls.server_name}: an http check takes SNI and Host from its URL (use resolve: IP to pin the address instead)`);
    out.untranslated.push(...unknownKeys(tls, { shape: { insecure_skip_verify: 0, ca_file: 0, server_name: 0 } }).map((k) => `tls_config.${k}: not supported (client certificates and TLS version limits are not driftwatch keys)`));
  }
  Object.assign(check, ipProtocolOf(http));
  if (http.valid_status_codes && http.valid_status_codes.length > 0) expect.status = http.valid_status_codes;
  const versions = http.valid_http_versions ?? [];
  const known = versions.filter((v) => HTTP_VERSIONS.has(v));
  if (known.length > 0) expect.httpVersions = known;
  for (const v of versions.filter((x) => !HTTP_VERSIONS.has(x))) out.untranslated.push(`valid_http_versions ${v}: not an HTTP version driftwatch knows`);
  if (versions.includes('HTTP/2.0')) out.notes.push('driftwatch speaks HTTP/1.1: HTTP/2.0 in httpVersions never matches');
  if (http.fail_if_ssl === true && http.fail_if_not_ssl === true) out.untranslated.push('fail_if_ssl and fail_if_not_ssl together always fail: left out');
  else if (http.fail_if_ssl === true) expect.https = false;
  else if (http.fail_if_not_ssl === true) expect.https = true;
  if (http.fail_if_body_not_matches_regexp?.length) expect.bodyMatches = http.fail_if_body_not_matches_regexp;
  if (http.fail_if_body_matches_regexp?.length) expect.bodyNotMatches = http.fail_if_body_matches_regexp;
  const headerExpect = translateHeaderMatches(http, out);
  if (Object.keys(headerExpect).length > 0) expect.headers = headerExpect;
  if (Object.keys(expect).length > 0) check.expect = expect;
  out.untranslated.push(...unknownKeys(http, httpProbe).map((k) => `${k}: no driftwatch equivalent`));
  return check;
}

/** fail_if_header_(not_)matches as { matches, notMatches, allowMissing } per header. */
function translateHeaderMatches(http: HttpProbe, out: Translation): Record<string, { matches?: string; notMatches?: string; allowMissing: boolean }> {
  const byHeader: Record<string, { matches?: string; notMatches?: string; allowMissing: boolean }> = {};
  const entry = (header: string, allowMissing: boolean | undefined) => {
    const found = byHeader[header];
    // Missing is allowed only if every rule on the header allows it.
    if (found) found.allowMissing &&= allowMissing === true;
    else byHeader[header] = { allowMissing: allowMissing === true };
    return byHeader[header] ?? { allowMissing: false };
  };
  for (const rule of http.fail_if_header_matches ?? []) {
    const e = entry(rule.header, rule.allow_missing);
    // Failing when any of them matches is failing when their alternation matches.
    e.notMatches = e.notMatches === undefined ? rule.regexp : `(?:${e.notMatches})|(?:${rule.regexp})`;
  }
  for (const rule of http.fail_if_header_not_matches ?? []) {
    const e = entry(rule.header, rule.allow_missing);
    if (e.matches === undefined) e.matches = rule.regexp;
    else out.untranslated.push(`fail_if_header_not_matches ${rule.header} /${rule.regexp}/: one matches pattern per header (kept /${e.matches}/)`);
  }
  return byHeader;
}
