import type { JsonSchema } from '../contract/interfaces';
import type { CategoryDefinition } from '../contract/validation';

/** The `categories` property an extraction answer's items get when custom categories are configured. */
export function categoriesProperty(categories: readonly CategoryDefinition[]): JsonSchema {
  return { type: 'array', items: { type: 'string', enum: categories.map((category) => category.name) } };
}

/**
 * Reads the categories the model gave one fact, leniently (no fact is lost over them): names of
 * `categories` matched ignoring case and surrounding spaces, returned as configured, each once, in
 * the configured order; unknown names and anything that is not a string are dropped, and a missing
 * or malformed list is no category.
 */
export function readCategories(value: unknown, categories: readonly CategoryDefinition[]): string[] {
  if (!Array.isArray(value)) return [];
  const given = new Set(value.flatMap((name) => (typeof name === 'string' ? [name.trim().toLowerCase()] : [])));
  return categories.filter((category) => given.has(category.name.toLowerCase())).map((category) => category.name);
}
