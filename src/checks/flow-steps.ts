import { z } from 'zod';
import { DEFAULT_MAX_BODY_BYTES } from '../net/http-request.js';
import { httpMethod, ipAddress } from './http.js';
import { expectSchema } from './http-expect.js';
import { regex } from './pattern.js';
import { headerMap, httpUrl, maxBodyBytes } from './request-fields.js';
import { kubeSourceFields, namespaceName, objectName } from '../kube/source.js';

/**
 * The schema of a flow's steps: each an http request (everything an http check has but
 * endpointsFrom), with `capture:` naming values later steps use as `{captures.NAME}` in their URL,
 * header values and body. Validation here, so a reference to a value no earlier step captures is
 * a located problem in the check file, not a failed run.
 */

/** Steps a flow has at most: each a request on a fresh connection under the run's one timeout. */
export const MAX_STEPS = 20;
/** A captured value longer than this fails its step: it goes into URLs and headers, not bodies. */
export const MAX_CAPTURE_BYTES = 4096;

const stepName = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'a step name is lower-case letters, digits and dashes (it is a metric label value)')
  .max(63);
const captureName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'a capture name is letters, digits and _ (at most 64), not starting with a digit');

/** `{captures.NAME}` anywhere in a text. */
export const CAPTURE_REFERENCE = /\{captures\.([A-Za-z_][A-Za-z0-9_]*)\}/g;

const capture = z
  .strictObject({
    json: z.string().min(1).optional().meta({ description: 'a JSON path into the body: token, data.items[0].id' }),
    header: z.string().min(1).optional().meta({ description: 'a response header (any case)' }),
    regex: regex.optional().meta({ description: 'an RE2 pattern over the body (its first 64 KiB); the first group, else the whole match' }),
    public: z.boolean().default(false).meta({ description: 'show the value in results (default: a captured value is a secret)' }),
  })
  .refine((c) => [c.json, c.header, c.regex].filter((v) => v !== undefined).length === 1, { error: 'give exactly one of json, header or regex' });
export type Capture = z.infer<typeof capture>;

/** A URL that is an http(s) URL once its `{captures.NAME}` are filled in. */
const stepUrl = z.string().superRefine((url, ctx) => {
  const parsed = httpUrl.safeParse(url.replace(CAPTURE_REFERENCE, 'x'));
  if (!parsed.success) ctx.addIssue({ code: 'custom', message: parsed.error.issues[0]?.message ?? 'expected an http:// or https:// URL' });
});

export const flowStep = z.strictObject({
  name: stepName,
  url: stepUrl,
  method: httpMethod.default('GET'),
  // A credential header may be written inline when it carries a captured value (a secret itself).
  headers: headerMap((value) => /\{captures\.[A-Za-z_][A-Za-z0-9_]*\}/.test(value)),
  body: z.string().optional(),
  resolve: ipAddress.optional().meta({ description: "dial this IP; Host, SNI and certificate checks keep the URL's hostname" }),
  ingressFrom: z
    .strictObject({ namespace: namespaceName, service: objectName, ...kubeSourceFields })
    .optional()
    .meta({ description: "dial the first IP of this Service's status.loadBalancer.ingress (the ingress), as resolve would; exclusive with resolve" }),
  ca: z.string().min(1).optional().meta({ description: 'PEM file of the CA to trust instead of the system roots' }),
  insecureSkipVerify: z.boolean().default(false),
  followRedirects: z.boolean().default(false).meta({ description: 'follow up to 10 redirects (no header crosses origins)' }),
  maxBodyBytes: maxBodyBytes(DEFAULT_MAX_BODY_BYTES),
  expect: expectSchema.prefault({}),
  capture: z.record(captureName, capture).default({}).meta({ description: 'values taken from the answer, used later as {captures.NAME}' }),
});
export type FlowStep = z.infer<typeof flowStep>;

export const flowSteps = z.array(flowStep).min(1).max(MAX_STEPS, { error: `at most ${MAX_STEPS} steps` });

/** Located problems: step names repeated, a capture named twice, a reference to a value no earlier step captures. */
export function checkStepReferences(steps: readonly FlowStep[], ctx: z.RefinementCtx): void {
  const names = new Set<string>();
  const captured = new Set<string>();
  steps.forEach((step, i) => {
    if (step.resolve !== undefined && step.ingressFrom !== undefined) ctx.addIssue({ code: 'custom', path: ['steps', i, 'ingressFrom'], message: 'give either resolve or ingressFrom, not both' });
    if (names.has(step.name)) ctx.addIssue({ code: 'custom', path: ['steps', i, 'name'], message: `another step is named ${step.name}` });
    names.add(step.name);
    const uses: [string | number, string][] = [['url', step.url], ...(step.body === undefined ? [] : [['body', step.body] as [string, string]])];
    for (const [header, value] of Object.entries(step.headers)) if (typeof value === 'string') uses.push([header, value]);
    for (const [field, text] of uses) {
      for (const [, name] of text.matchAll(CAPTURE_REFERENCE)) {
        if (name !== undefined && !captured.has(name)) {
          const path = field === 'url' || field === 'body' ? ['steps', i, field] : ['steps', i, 'headers', field];
          const known = captured.size > 0 ? `captured before it: ${[...captured].join(', ')}` : 'no step before it captures anything';
          ctx.addIssue({ code: 'custom', path, message: `{captures.${name}} is not captured by an earlier step (${known})` });
        }
      }
    }
    for (const name of Object.keys(step.capture)) {
      if (captured.has(name)) ctx.addIssue({ code: 'custom', path: ['steps', i, 'capture', name], message: `${name} is captured by an earlier step already` });
      captured.add(name);
    }
  });
}
