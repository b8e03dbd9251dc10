/**
 * Kubernetes objects checked against the schemas of kubernetes-models (core), its Argo Rollouts
 * and prometheus-operator packages, with unknown fields refused. The packages' validate() checks
 * types and required fields but lets any extra property through (a container's `imagex:` passes),
 * and they ship compiled validators, not JSON schemas to tighten. So the validator runs on a
 * Proxy of the object that records which property names it looks up at each path: a compiled
 * validator reads every property its schema declares (and iterates the keys of maps), so a
 * property it never reads is one the schema does not know.
 */

type Validate = (this: unknown) => void;
interface Model {
  prototype: object;
  validate: Validate;
}

/** The package module holding the classes of an apiVersion. */
function moduleOf(apiVersion: string): string | undefined {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  if (group === 'monitoring.coreos.com') return `@kubernetes-models/prometheus-operator/${apiVersion}`;
  if (group === 'argoproj.io') return `@kubernetes-models/argo-rollouts/${apiVersion}`;
  if (group === '') return `kubernetes-models/${version ?? ''}`;
  return `kubernetes-models/${apiVersion}`;
}

async function modelOf(apiVersion: string, kind: string): Promise<Model | string> {
  const specifier = moduleOf(apiVersion);
  let module: unknown;
  try {
    module = specifier === undefined ? undefined : await import(specifier);
  } catch {
    return `no schema package for ${apiVersion}`;
  }
  const model: unknown = isRecord(module) ? module[kind] : undefined;
  const prototype: unknown = typeof model === 'function' ? (model as { prototype: unknown }).prototype : undefined;
  const validate: unknown = isRecord(prototype) ? prototype.validate : undefined;
  return isRecord(prototype) && typeof validate === 'function' ? { prototype, validate: validate as Validate } : `no schema for ${apiVersion} ${kind}`;
}

/** Problems of one object: the schema's own errors, then each property the schema does not define. */
export async function schemaProblems(object: unknown): Promise<string[]> {
  if (!isRecord(object) || typeof object.apiVersion !== 'string' || typeof object.kind !== 'string') return ['not a Kubernetes object (apiVersion, kind)'];
  const model = await modelOf(object.apiVersion, object.kind);
  if (typeof model === 'string') return [model];
  const reads = new Map<string, Set<string>>();
  const problems: string[] = [];
  // An instance of the class (older models keep their schema id on the prototype) with the
  // object's own properties, not a copy of them: the Proxy sees every lookup.
  const instance: object = Object.assign(Object.create(model.prototype) as object, object);
  try {
    model.validate.call(recording(instance, '', reads));
  } catch (err) {
    problems.push(err instanceof Error ? err.message : String(err));
  }
  return [...problems, ...unknownFields(object, '', reads)];
}

function recording(value: unknown, path: string, reads: Map<string, Set<string>>): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const seen = reads.get(path) ?? new Set<string>();
  reads.set(path, seen);
  return new Proxy(value, {
    get(target, key, receiver) {
      const child: unknown = Reflect.get(target, key, receiver);
      if (typeof key !== 'string') return child;
      seen.add(key);
      return recording(child, `${path}/${key}`, reads);
    },
    ownKeys(target) {
      // A map (labels, data): the validator walks its keys, each one is known.
      const keys = Reflect.ownKeys(target);
      for (const key of keys) if (typeof key === 'string') seen.add(key);
      return keys;
    },
  });
}

/**
 * Fields whose CRD schema says `x-kubernetes-preserve-unknown-fields: true`: any content is
 * valid there (Argo Rollouts' web provider sends jsonBody as the request body, as written).
 */
const FREE_FORM = [/^\/spec\/metrics\/\d+\/provider\/web\/jsonBody$/];

function unknownFields(value: unknown, path: string, reads: Map<string, Set<string>>): string[] {
  if (FREE_FORM.some((pattern) => pattern.test(path))) return [];
  if (Array.isArray(value)) return value.flatMap((item, index) => unknownFields(item, `${path}/${index}`, reads));
  if (!isRecord(value)) return [];
  const known = reads.get(path) ?? new Set<string>();
  return Object.entries(value).flatMap(([key, child]) =>
    known.has(key) ? unknownFields(child, `${path}/${key}`, reads) : [`${path}/${key}: unknown field`],
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
