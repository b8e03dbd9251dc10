import { z } from 'zod';

/**
 * Which parts of a JSON answer a schema reads: `true` the whole value, `o` these keys of an
 * object (a z.object drops the others anyway), `a` each item of an array. The JSON thread keeps
 * only these parts of a large answer, so the event loop receives what a check reads and not the
 * rest (a pod's managedFields, a Deployment's every container field).
 */
export type Shape = true | { o: Record<string, Shape> } | { a: Shape };

const shapes = new WeakMap<z.ZodType, Shape>();

/** The shape a schema reads, derived once per schema; anything not plainly an object or array is read whole. */
export function shapeOf(schema: z.ZodType): Shape {
  let shape = shapes.get(schema);
  if (shape === undefined) shapes.set(schema, (shape = derive(schema, 0)));
  return shape;
}

/** The shape with `keys` read whole as well (an object's kind and apiVersion, checked before its schema). */
export function withKeys(shape: Shape, keys: readonly string[]): Shape {
  if (shape === true || !('o' in shape)) return shape;
  return { o: { ...shape.o, ...Object.fromEntries(keys.map((key) => [key, true])) } };
}

function derive(schema: z.core.$ZodType, depth: number): Shape {
  // Deeper than any schema here: read whole rather than recurse through a lazy cycle.
  if (depth > 32) return true;
  if (schema instanceof z.ZodObject) {
    // A strict or loose object sees every key: read whole.
    if (schema.def.catchall !== undefined) return true;
    const keys: Record<string, Shape> = {};
    for (const [key, inner] of Object.entries<z.core.$ZodType>(schema.shape)) keys[key] = derive(inner, depth + 1);
    return { o: keys };
  }
  if (schema instanceof z.ZodArray) return { a: derive(schema.element, depth + 1) };
  if (schema instanceof z.ZodOptional || schema instanceof z.ZodNullable || schema instanceof z.ZodDefault || schema instanceof z.ZodPrefault) {
    return derive(schema.unwrap(), depth + 1);
  }
  // A transform reads what its input schema reads.
  if (schema instanceof z.ZodPipe) return derive(schema.in, depth + 1);
  return true;
}
