import { z } from 'zod';

// Walking zod object schemas by dotted path, and deriving the "overrides" form of a schema: every key
// optional, no defaults (an override must not reset what a lower layer set), same checks otherwise.

interface Def {
  type: string;
  innerType?: z.ZodType;
  defaultValue?: unknown;
}
const defOf = (s: z.ZodType) => (s as unknown as { _zod: { def: Def } })._zod.def;

/** Strip `.default()` / `.prefault()` / `.optional()` wrappers; keep the first description and default. */
function unwrap(schema: z.ZodType): { inner: z.ZodType; description?: string; defaultValue?: unknown } {
  let inner = schema;
  let description = schema.description;
  let defaultValue: unknown;
  for (;;) {
    const def = defOf(inner);
    if (def.type !== 'default' && def.type !== 'prefault' && def.type !== 'optional') break;
    if (def.type === 'default' && defaultValue === undefined) defaultValue = def.defaultValue;
    inner = def.innerType!;
    description ??= inner.description;
  }
  return {
    inner,
    ...(description !== undefined && { description }),
    ...(defaultValue !== undefined && { defaultValue }),
  };
}

const isObjectSchema = (s: z.ZodType): s is z.ZodObject => s instanceof z.ZodObject;

type PartialObject = z.ZodObject<Record<string, z.ZodOptional<z.ZodType>>, z.core.$strict>;

/** The overrides form of an object schema: every key optional at every depth, defaults only as hints. */
export function deepPartial(schema: z.ZodObject): PartialObject {
  const shape: Record<string, z.ZodOptional<z.ZodType>> = {};
  for (const [key, field] of Object.entries(schema.shape as Record<string, z.ZodType>)) {
    const { inner, description, defaultValue } = unwrap(field);
    const part = isObjectSchema(inner) ? deepPartial(inner) : inner;
    const meta = {
      ...(description !== undefined && { description }),
      ...(defaultValue !== undefined && { default: defaultValue }),
    };
    shape[key] = Object.keys(meta).length ? part.optional().meta(meta) : part.optional();
  }
  const out = z.strictObject(shape);
  return schema.description ? out.describe(schema.description) : out;
}

/** The schema at a dotted path of an object schema (unwrapping defaults), or undefined if no such key. */
export function schemaAt(schema: z.ZodType, path: readonly string[]): z.ZodType | undefined {
  let current: z.ZodType = schema;
  for (const key of path) {
    const { inner } = unwrap(current);
    if (!isObjectSchema(inner)) return undefined;
    const next = (inner.shape as Record<string, z.ZodType>)[key];
    if (!next || !Object.hasOwn(inner.shape, key)) return undefined;
    current = next;
  }
  return unwrap(current).inner;
}

/** Every dotted path of an object schema, objects included (`decoding`, `decoding.mode`, …). */
export function schemaPaths(schema: z.ZodObject, prefix = ''): string[] {
  const out: string[] = [];
  for (const [key, field] of Object.entries(schema.shape as Record<string, z.ZodType>)) {
    const path = prefix ? `${prefix}.${key}` : key;
    out.push(path);
    const { inner } = unwrap(field);
    if (isObjectSchema(inner)) out.push(...schemaPaths(inner, path));
  }
  return out;
}

/** The closest known path to a mistyped one, for "did you mean" hints (edit distance ≤ 3). */
export function closestPath(path: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 4;
  for (const candidate of known) {
    const d = editDistance(path, candidate);
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 3) return 99;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}
