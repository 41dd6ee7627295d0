import type { z } from 'zod';
import { ValidationError } from '../../core/errors.js';

/**
 * Parses untrusted input with a zod schema; failures become ValidationError (400) whose message
 * names the fields, never echoing their values (they may be passwords).
 */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, where: 'body' | 'query' | 'params'): z.infer<S> {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  const problems = result.error.issues.slice(0, 5).map((i) => {
    const path = i.path.map(String).join('.') || where;
    return `${path}: ${i.message}`;
  });
  throw new ValidationError(`invalid ${where}: ${problems.join('; ')}`);
}
