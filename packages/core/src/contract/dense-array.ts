import { InvalidInputError } from './errors';

/**
 * The items of an array a caller passed, each one present. A hole (`[a, , b]`, `delete array[1]`,
 * or an array grown through `length`) is an {@link InvalidInputError} naming `field[index]`:
 * `map`, `every` and `entries` skip holes or read them as `undefined`, so an input read with them
 * could silently lose an item or reach a store as `undefined`. Check the length limit first: the
 * loop runs up to the first hole.
 */
export function denseItems<T>(array: readonly T[], field: string): T[] {
  const items: T[] = [];
  for (let index = 0; index < array.length; index++) {
    if (!Object.hasOwn(array, index)) {
      throw new InvalidInputError(
        `${field}[${index}]`,
        'is missing (a hole in a sparse array)',
        'Pass an array without empty slots, e.g. built with push() or a literal without ", ,".',
      );
    }
    items.push(array[index]!);
  }
  return items;
}
