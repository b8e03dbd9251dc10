import { z } from 'zod';

/*
 * blackbox_exporter's configuration file (CONFIGURATION.md of 0.23), read as far as
 * `driftwatch import blackbox` translates it. Objects are loose: keys driftwatch does not know
 * are kept, so the import can name them, and leave out a module whose meaning they change.
 */

const tlsConfig = z.looseObject({
  insecure_skip_verify: z.boolean().optional(),
  ca_file: z.string().optional(),
  server_name: z.string().optional(),
});

const regexList = z.array(z.string()).optional();
const headerMatch = z.array(z.looseObject({ header: z.string(), regexp: z.string(), allow_missing: z.boolean().optional() })).optional();

export const httpProbe = z.looseObject({
  valid_status_codes: z.array(z.number().int()).optional(),
  valid_http_versions: z.array(z.string()).optional(),
  method: z.string().optional(),
  headers: z.record(z.string(), z.string()).optional(),
  body: z.string().optional(),
  no_follow_redirects: z.boolean().optional(),
  follow_redirects: z.boolean().optional(),
  fail_if_ssl: z.boolean().optional(),
  fail_if_not_ssl: z.boolean().optional(),
  fail_if_body_matches_regexp: regexList,
  fail_if_body_not_matches_regexp: regexList,
  fail_if_header_matches: headerMatch,
  fail_if_header_not_matches: headerMatch,
  tls_config: tlsConfig.optional(),
  basic_auth: z.looseObject({ username: z.string().optional(), password: z.string().optional(), password_file: z.string().optional() }).optional(),
  preferred_ip_protocol: z.string().optional(),
  ip_protocol_fallback: z.boolean().optional(),
  proxy_url: z.string().optional(),
});
export type HttpProbe = z.infer<typeof httpProbe>;

export const tcpProbe = z.looseObject({
  preferred_ip_protocol: z.string().optional(),
  ip_protocol_fallback: z.boolean().optional(),
  query_response: z.array(z.unknown()).optional(),
  tls: z.boolean().optional(),
  tls_config: tlsConfig.optional(),
});
export type TcpProbe = z.infer<typeof tcpProbe>;

const rrValidation = z
  .looseObject({
    fail_if_matches_regexp: regexList,
    fail_if_all_match_regexp: regexList,
    fail_if_not_matches_regexp: regexList,
    fail_if_none_matches_regexp: regexList,
  })
  .optional();

export const dnsProbe = z.looseObject({
  query_name: z.string().optional(),
  query_type: z.string().optional(),
  transport_protocol: z.string().optional(),
  preferred_ip_protocol: z.string().optional(),
  ip_protocol_fallback: z.boolean().optional(),
  valid_rcodes: z.array(z.string()).optional(),
  validate_answer_rrs: rrValidation,
  validate_authority_rrs: rrValidation,
  validate_additional_rrs: rrValidation,
  recursion_desired: z.boolean().optional(),
});
export type DnsProbe = z.infer<typeof dnsProbe>;

export const grpcProbe = z.looseObject({
  service: z.string().optional(),
  tls: z.boolean().optional(),
  tls_config: tlsConfig.optional(),
  preferred_ip_protocol: z.string().optional(),
  ip_protocol_fallback: z.boolean().optional(),
});
export type GrpcProbe = z.infer<typeof grpcProbe>;

export const blackboxModule = z.looseObject({
  prober: z.string(),
  timeout: z.string().optional(),
  http: httpProbe.optional(),
  tcp: tcpProbe.optional(),
  dns: dnsProbe.optional(),
  grpc: grpcProbe.optional(),
});
export type BlackboxModule = z.infer<typeof blackboxModule>;

export const blackboxConfig = z.looseObject({ modules: z.record(z.string(), blackboxModule) });
