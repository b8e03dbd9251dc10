import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import type { ChannelOptions, Client, connectivityState as ConnectivityState, ServiceError } from '@grpc/grpc-js';
import { CertificateError, describeCertificate, type CertificateInfo } from '../net/certificate.js';

/**
 * One call of the standard gRPC health service (grpc.health.v1.Health/Check) with
 * @grpc/grpc-js: a fresh channel per call, closed when the call ends, cancelled by the run's
 * signal. The two messages are defined here as a protobufjs JSON descriptor for proto-loader
 * (the same fields and numbers as grpc-proto's health.proto), so no .proto file has to ship.
 * grpc-js and proto-loader are imported on the first call, not at start-up: together they take
 * 130-220 ms to load, which every daemon and check-file worker would pay without a grpc check.
 */
type GrpcJs = typeof import('@grpc/grpc-js');

let loading: Promise<{ grpc: GrpcJs; method: HealthMethod; codeNames: Map<number, string> }> | undefined;
function load() {
  loading ??= Promise.all([import('@grpc/grpc-js'), import('@grpc/proto-loader')]).then(([grpc, loader]) => ({
    grpc,
    method: checkMethod(loader.fromJSON(HEALTH_JSON, { enums: String, defaults: true })),
    // The gRPC status names by code (OK, CANCELLED, ...), read off grpc-js's enum once.
    codeNames: new Map<number, string>(Object.entries(grpc.status).flatMap(([name, value]) => (typeof value === 'number' ? [[value, name] as const] : []))),
  }));
  return loading;
}

const HEALTH_JSON = {
    nested: {
      grpc: { nested: { health: { nested: { v1: { nested: {
        HealthCheckRequest: { fields: { service: { type: 'string', id: 1 } } },
        HealthCheckResponse: {
          fields: { status: { type: 'ServingStatus', id: 1 } },
          nested: { ServingStatus: { values: { UNKNOWN: 0, SERVING: 1, NOT_SERVING: 2, SERVICE_UNKNOWN: 3 } } },
        },
        Health: { methods: { Check: { requestType: 'HealthCheckRequest', responseType: 'HealthCheckResponse', comment: '' } } },
      } } } } } },
    },
};

type PackageDefinition = ReturnType<typeof import('@grpc/proto-loader').fromJSON>;
interface HealthMethod {
  path: string;
  requestSerialize: (value: object) => Buffer;
  responseDeserialize: (bytes: Buffer) => object;
}

function checkMethod(definition: PackageDefinition): HealthMethod {
  const service = definition['grpc.health.v1.Health'];
  const method = service !== undefined && 'Check' in service ? service.Check : undefined;
  if (method === undefined || !('requestSerialize' in method)) throw new Error('health descriptor lacks Check');
  return method;
}

/** The serving statuses of the health protocol, as blackbox labels them. */
export const SERVING_STATUSES = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'] as const;
export type ServingStatus = (typeof SERVING_STATUSES)[number];

/** Answers past this are refused by grpc-js (RESOURCE_EXHAUSTED): a health answer is a few bytes. */
export const MAX_ANSWER_BYTES = 4096;

export interface HealthCallOptions {
  /** grpc-js target: `ipv4:127.0.0.1:50051` or `ipv6:[::1]:50051`. */
  dial: string;
  /** host:port sent as :authority. */
  authority: string;
  /** The name SNI and certificate verification use. */
  serverName: string;
  plaintext: boolean;
  ca: string | undefined;
  insecureSkipVerify: boolean;
  service: string;
  /** Already resolved (secrets revealed); never logged here. */
  metadata: Record<string, string>;
  signal: AbortSignal;
}

export interface HealthCallResult {
  /** The gRPC status code of the call (0 OK). */
  code: number;
  /** Its name (OK, UNIMPLEMENTED, UNAVAILABLE...). */
  codeName: string;
  /** The server's error details, for a failed call. */
  details?: string;
  servingStatus?: ServingStatus;
  /** Until the channel was ready (TCP and TLS), and the whole call. */
  connectMs?: number;
  totalMs: number;
  /** The certificate the server sent, when its chain verified (or verification is off and it was readable). */
  certificate?: CertificateInfo;
  /** The certificate names do not cover serverName (Node's message). */
  nameError?: string;
}

export async function callHealth(options: HealthCallOptions): Promise<HealthCallResult> {
  const { grpc, method, codeNames } = await load();
  options.signal.throwIfAborted();
  const { Client, credentials, Metadata } = grpc;
  const started = performance.now();
  const elapsed = () => Math.round((performance.now() - started) * 1000) / 1000;
  const seen: { certificate?: CertificateInfo; nameError?: string; connectMs?: number } = {};
  const channelOptions: ChannelOptions = {
    'grpc.default_authority': options.authority,
    'grpc.max_receive_message_length': MAX_ANSWER_BYTES,
    // One attempt: a check reports what it met, it does not retry past it.
    'grpc.enable_retries': 0,
    'grpc.initial_reconnect_backoff_ms': 60_000,
    ...(!options.plaintext && { 'grpc.ssl_target_name_override': options.serverName }),
  };
  const creds = options.plaintext
    ? credentials.createInsecure()
    : credentials.createSsl(options.ca === undefined ? null : Buffer.from(options.ca), null, null, {
        rejectUnauthorized: !options.insecureSkipVerify,
        checkServerIdentity: (name: string, cert: PeerCertificate) => {
          seen.certificate = readCertificate(cert);
          const error = checkServerIdentity(name, cert);
          if (error) seen.nameError = error.message;
          return options.insecureSkipVerify ? undefined : error;
        },
      });
  const client = new Client(options.dial, creds, channelOptions);
  watchReady(grpc, client, () => (seen.connectMs = elapsed()));
  const metadata = new Metadata();
  for (const [key, value] of Object.entries(options.metadata)) metadata.set(key.toLowerCase(), value);
  return new Promise<HealthCallResult>((resolve) => {
    const call = client.makeUnaryRequest(method.path, method.requestSerialize, method.responseDeserialize, { service: options.service }, metadata, {}, (err: ServiceError | null, answer?: unknown) => {
      options.signal.removeEventListener('abort', onAbort);
      const base = { totalMs: elapsed(), ...seen };
      if (err) resolve({ ...base, code: err.code, codeName: codeNames.get(err.code) ?? String(err.code), details: err.details });
      else resolve({ ...base, code: 0, codeName: 'OK', servingStatus: servingStatusOf(answer) });
    });
    const onAbort = () => { call.cancel(); };
    options.signal.addEventListener('abort', onAbort, { once: true });
  }).finally(() => { client.close(); });
}

/** Records when the channel first turns READY (connected, TLS done); stops at SHUTDOWN. */
function watchReady({ connectivityState }: GrpcJs, client: Client, onReady: () => void): void {
  const channel = client.getChannel();
  const step = (state: ConnectivityState) => {
    if (state === connectivityState.READY) onReady();
    else if (state !== connectivityState.SHUTDOWN) channel.watchConnectivityState(state, Infinity, () => { step(channel.getConnectivityState(false)); });
  };
  step(channel.getConnectivityState(false));
}

function readCertificate(cert: PeerCertificate): CertificateInfo | undefined {
  try {
    return describeCertificate(cert);
  } catch (err) {
    if (err instanceof CertificateError) return undefined;
    throw err;
  }
}

function servingStatusOf(answer: unknown): ServingStatus {
  const value = typeof answer === 'object' && answer !== null && 'status' in answer ? answer.status : undefined;
  return SERVING_STATUSES.find((s) => s === value) ?? 'UNKNOWN';
}
