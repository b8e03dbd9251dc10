import { httpProbe, type HttpProbe } from './blackbox-config.js';
import { acceptPatterns, envName, ipProtocolOf, sortUnknownKeys, TLS_KEYS, unknownKeys, type Translation } from './blackbox-translation.js';

const HTTP_VERSIONS = new Set(['HTTP/1.0', 'HTTP/1.1', 'HTTP/2.0']);
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
/** Header names whose values are credentials: written as secret references, never inline. */
const SECRET_HEADER = /^(authorization|proxy-authorization|cookie|x-api-key|api-key|x-auth-token)$/i;
/** http keys without a driftwatch equivalent that cannot change probe_success, each with why. */
const HARMLESS = {
  enable_http2: 'driftwatch speaks HTTP/1.1 either way',
  no_proxy: 'used only with proxy_url',
  proxy_connect_header: 'used only with proxy_url',
  skip_resolve_phase_with_proxy: 'used only with proxy_url',
};
const CREDENTIALS = 'credentials driftwatch would not send, so the target would answer otherwise (an Authorization header with a secret reference is the driftwatch way)';
/** Why some http keys leave the module out. */
const REFUSED_WHY = {
  compression: 'blackbox asks for a compressed body and fails a response it cannot decompress; driftwatch does neither',
  body_size_limit: 'blackbox fails a body over this size; driftwatch\'s maxBodyBytes is its own limit (1 MiB unless set)',
  bearer_token: CREDENTIALS,
  bearer_token_file: CREDENTIALS,
  authorization: CREDENTIALS,
  oauth2: CREDENTIALS,
};

/** A blackbox http module as the fields of an http check (name, type, timeout and target are the caller's). */
export function translateHttp(module: string, http: HttpProbe, out: Translation): Record<string, unknown> {
  const check: Record<string, unknown> = {};
  const expect: Record<string, unknown> = {};
  if (http.method !== undefined) {
    if (METHODS.has(http.method.toUpperCase())) check.method = http.method.toUpperCase();
    else out.refused.push(`method ${http.method}: driftwatch sends ${[...METHODS].join(', ')}`);
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
    sortUnknownKeys(out, 'basic_auth.', unknownKeys(http.basic_auth, { shape: { username: 0, password: 0, password_file: 0 } }));
  }
  const tls = http.tls_config;
  if (tls) {
    if (tls.insecure_skip_verify === true) check.insecureSkipVerify = true;
    if (tls.ca_file !== undefined) check.ca = tls.ca_file;
    if (tls.server_name !== undefined) out.refused.push(`tls_config.server_name ${tls.server_name}: an http check sends and verifies the name in its URL; put that name in the target and pin the address with resolve: instead`);
    sortUnknownKeys(out, 'tls_config.', unknownKeys(tls, TLS_KEYS));
  }
  Object.assign(check, ipProtocolOf(http));
  if (http.valid_status_codes && http.valid_status_codes.length > 0) expect.status = http.valid_status_codes;
  Object.assign(expect, translateProtocol(http, out));
  const must = http.fail_if_body_not_matches_regexp ?? [];
  if (must.length > 0 && acceptPatterns(out, 'fail_if_body_not_matches_regexp', must)) expect.bodyMatches = must;
  const mustNot = http.fail_if_body_matches_regexp ?? [];
  if (mustNot.length > 0 && acceptPatterns(out, 'fail_if_body_matches_regexp', mustNot)) expect.bodyNotMatches = mustNot;
  const headerExpect = translateHeaderMatches(http, out);
  if (Object.keys(headerExpect).length > 0) expect.headers = headerExpect;
  if (Object.keys(expect).length > 0) check.expect = expect;
  sortUnknownKeys(out, '', unknownKeys(http, httpProbe), HARMLESS, REFUSED_WHY);
  return check;
}

/** valid_http_versions and fail_if_ssl / fail_if_not_ssl as httpVersions and https. */
function translateProtocol(http: HttpProbe, out: Translation): Record<string, unknown> {
  const expect: Record<string, unknown> = {};
  const versions = http.valid_http_versions ?? [];
  const known = versions.filter((v) => HTTP_VERSIONS.has(v));
  if (known.length > 0) expect.httpVersions = known;
  const unknown = versions.filter((v) => !HTTP_VERSIONS.has(v));
  // Versions neither side speaks never match: dropping them changes nothing, unless none is left.
  if (unknown.length > 0 && known.length === 0) out.refused.push(`valid_http_versions ${unknown.join(', ')}: no HTTP version driftwatch knows, so blackbox fails every response`);
  else for (const v of unknown) out.untranslated.push(`valid_http_versions ${v}: not an HTTP version driftwatch or blackbox speaks`);
  if (versions.includes('HTTP/2.0')) out.notes.push('driftwatch speaks HTTP/1.1: HTTP/2.0 in httpVersions never matches');
  if (http.fail_if_ssl === true && http.fail_if_not_ssl === true) out.refused.push('fail_if_ssl and fail_if_not_ssl together: blackbox fails every response');
  else if (http.fail_if_ssl === true) expect.https = false;
  else if (http.fail_if_not_ssl === true) expect.https = true;
  return expect;
}

type HeaderExpect = { matches?: string; notMatches?: string; allowMissing: boolean };

/** fail_if_header_(not_)matches as { matches, notMatches, allowMissing } per header. */
function translateHeaderMatches(http: HttpProbe, out: Translation): Record<string, HeaderExpect> {
  const byHeader: Record<string, HeaderExpect> = {};
  const entry = (header: string, allowMissing: boolean | undefined) => {
    const found = byHeader[header];
    // Missing is allowed only if every rule on the header allows it.
    if (found) found.allowMissing &&= allowMissing === true;
    else byHeader[header] = { allowMissing: allowMissing === true };
    return byHeader[header] ?? { allowMissing: false };
  };
  for (const rule of http.fail_if_header_matches ?? []) {
    if (!acceptPatterns(out, `fail_if_header_matches ${rule.header}`, [rule.regexp])) continue;
    const e = entry(rule.header, rule.allow_missing);
    // Failing when any of them matches is failing when their alternation matches; flags set inside a group stay in it (RE2).
    const either = e.notMatches === undefined ? rule.regexp : `(?:${e.notMatches})|(?:${rule.regexp})`;
    if (acceptPatterns(out, `fail_if_header_matches ${rule.header} (the rules on this header as one alternation)`, [either])) e.notMatches = either;
  }
  for (const rule of http.fail_if_header_not_matches ?? []) {
    if (!acceptPatterns(out, `fail_if_header_not_matches ${rule.header}`, [rule.regexp])) continue;
    const e = entry(rule.header, rule.allow_missing);
    if (e.matches === undefined) e.matches = rule.regexp;
    else out.refused.push(`fail_if_header_not_matches ${rule.header} /${rule.regexp}/: a header takes one pattern it must match (/${e.matches}/ already), and RE2 cannot say "both"`);
  }
  return byHeader;
}
