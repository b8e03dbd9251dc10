import { z } from 'zod';
import { baseFields } from '../config/base.js';
import { readSopsKeys, type SopsKeys, type SopsKeysMemo } from './sops-keys.js';
import { SECRETS } from '../kube/object-ref.js';
import { kubeSourceFields, namespaceName, objectName } from '../kube/source.js';
import { CheckFailure } from '../results/result.js';
import type { CheckType, RunContext } from './check-type.js';

const keyName = z.string().regex(/^[-._a-zA-Z0-9]+$/, 'must be a Secret key name: letters, digits, "-", "_" and "."');

export const schema = z.strictObject({
  ...baseFields,
  ...kubeSourceFields,
  type: z.literal('k8s-secret'),
  namespace: namespaceName,
  secret: objectName.meta({ description: 'name of the Secret; only its key names and metadata are read' }),
  expect: z
    .strictObject({
      keys: z.array(keyName).default([]).meta({ description: 'key names the Secret must have' }),
      keysFrom: z
        .string()
        .min(1)
        .optional()
        .meta({ description: "a SOPS-encrypted file (YAML, JSON or .env; a Secret manifest or flat keys): the Secret's keys must equal its key names; nothing is decrypted" }),
      allowExtraKeys: z.boolean().optional().meta({ description: 'when false, keys not expected fail the check (default: true, false with keysFrom)' }),
      type: z.string().min(1).optional().meta({ description: 'the Secret type, e.g. Opaque or kubernetes.io/tls' }),
      labels: z.record(z.string(), z.string()).optional().meta({ description: 'labels the Secret must carry (others may be present)' }),
    })
    .prefault({}),
});
export type K8sSecretSpec = z.infer<typeof schema>;

/**
 * Only key names and metadata survive parsing: `data` becomes its key names and annotations
 * their names (kubectl's last-applied-configuration annotation holds the whole Secret,
 * values included). Nothing else of the response is kept.
 */
const secretSchema = z.object({
  type: z.string().default('Opaque'),
  immutable: z.boolean().optional(),
  metadata: z.object({
    labels: z.record(z.string(), z.string()).default({}),
    annotations: z
      .record(z.string(), z.unknown())
      .optional()
      .transform((annotations) => Object.keys(annotations ?? {}).sort()),
    creationTimestamp: z.string().optional(),
    resourceVersion: z.string().optional(),
  }),
  data: z
    .record(z.string(), z.unknown())
    .optional()
    .transform((data) => Object.keys(data ?? {}).sort()),
});

export interface K8sSecretObservations {
  namespace: string;
  name: string;
  type: string;
  keys: string[];
  missingKeys: string[];
  /** Keys beyond expect.keys (when keys are listed); they fail only when allowExtraKeys is false. */
  unexpectedKeys: string[];
  labels: Record<string, string>;
  annotationKeys: string[];
  immutable: boolean;
  createdAt: string | undefined;
  resourceVersion: string | undefined;
  /** With expect.keysFrom: the file and the key names it lists. */
  keysFrom?: { file: string } & SopsKeys;
}

/** The recovery drill's Secret check: key names, type and labels; values are never read past the parser. */
export const check: CheckType<K8sSecretSpec, K8sSecretObservations> = {
  async run(spec, ctx) {
    const source = spec.expect.keysFrom === undefined ? undefined : await keysFrom(spec, spec.expect.keysFrom, ctx);
    const client = await ctx.services.kube.client(spec);
    const found = await client.get({ ...SECRETS, namespace: spec.namespace, name: spec.secret }, secretSchema, ctx);
    const wanted = [...new Set([...spec.expect.keys, ...(source?.keys ?? [])])];
    const expected = new Set(wanted);
    const present = new Set(found.data);
    const observations: K8sSecretObservations = {
      namespace: spec.namespace,
      name: spec.secret,
      type: found.type,
      keys: found.data,
      missingKeys: wanted.filter((key) => !present.has(key)),
      unexpectedKeys: expected.size === 0 && allowsExtraKeys(spec) ? [] : found.data.filter((key) => !expected.has(key)),
      labels: found.metadata.labels,
      annotationKeys: found.metadata.annotations,
      immutable: found.immutable ?? false,
      createdAt: found.metadata.creationTimestamp,
      resourceVersion: found.metadata.resourceVersion,
      ...(source && { keysFrom: source }),
    };
    ctx.trace('secret', { keys: observations.keys, type: observations.type, ...(source && { keysFrom: source.file, fileKeys: source.keys }) });
    const problems = judge(spec, observations);
    if (problems.length === 0) return { observations };
    return { observations, failure: { reason: 'assertion', message: `secret ${spec.secret}: ${problems.join('; ')}` } };
  },
};

/**
 * What each loaded check last read from its keysFrom file, so an unchanged file is parsed once,
 * not on every run. Keyed by the spec a run is given, which lives as long as its check: a reload
 * makes new specs, and these go with the old ones.
 */
const memos = new WeakMap<K8sSecretSpec, SopsKeysMemo>();

async function keysFrom(spec: K8sSecretSpec, file: string, ctx: RunContext): Promise<{ file: string } & SopsKeys> {
  let memo = memos.get(spec);
  if (!memo) memos.set(spec, (memo = {}));
  const read = await readSopsKeys(file, ctx.signal, memo);
  ctx.trace('keysFrom', { file, parsed: read.parsed });
  if ('failure' in read) throw new CheckFailure('config', read.failure);
  return { file, ...read.keys };
}

/** Extra keys are allowed unless said otherwise, or unless the keys come from a file (its keys are the whole set). */
function allowsExtraKeys(spec: K8sSecretSpec): boolean {
  return spec.expect.allowExtraKeys ?? spec.expect.keysFrom === undefined;
}

function judge(spec: K8sSecretSpec, o: K8sSecretObservations): string[] {
  const problems: string[] = [];
  const has = o.keys.length > 0 ? o.keys.join(', ') : 'no keys';
  const file = o.keysFrom?.file;
  if (o.missingKeys.length > 0) problems.push(`missing keys ${o.missingKeys.join(', ')} (${file === undefined ? `has ${has}` : `in ${file}, not in the Secret`})`);
  if (!allowsExtraKeys(spec) && o.unexpectedKeys.length > 0) {
    const expected = file === undefined ? `expected only ${spec.expect.keys.join(', ') || 'no keys'}` : `in the Secret, not in ${file}`;
    problems.push(`unexpected keys ${o.unexpectedKeys.join(', ')} (${expected})`);
  }
  if (spec.expect.type !== undefined && o.type !== spec.expect.type) problems.push(`type ${o.type}, expected ${spec.expect.type}`);
  for (const [label, value] of Object.entries(spec.expect.labels ?? {})) {
    const actual = o.labels[label];
    if (actual !== value) problems.push(actual === undefined ? `label ${label} missing, expected ${label}=${value}` : `label ${label}=${actual}, expected ${label}=${value}`);
  }
  return problems;
}
