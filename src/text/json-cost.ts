/**
 * A cheap pre-scan of a JSON text's cost, run before the strict parser: parsing and checking a
 * 4 MiB body of ~424k keys held the event loop for seconds, and every client waited. One pass over
 * the bytes, no allocation but a nesting stack: object keys plus array items, and nesting depth.
 * It does not validate; the parser does that afterwards on what passed.
 */

export interface JsonCostLimits {
  /** Object members plus array items, over the whole document. */
  maxKeys: number;
  /** Nesting of objects and arrays. */
  maxDepth: number;
}

export const DEFAULT_JSON_COST: JsonCostLimits = { maxKeys: 5000, maxDepth: 32 };

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COLON = 0x3a;
const COMMA = 0x2c;

/** Why the text costs more than the limits allow, or undefined when it is within them. */
export function jsonCostExceeded(bytes: Uint8Array, limits: JsonCostLimits): string | undefined {
  // stack[d] is 1 inside an array at depth d (its items are counted), 0 inside an object.
  const stack = new Uint8Array(limits.maxDepth + 1);
  let depth = 0;
  let keys = 0;
  let inString = false;
  // True after '[' until the first non-space byte: an empty array has no item.
  let arrayOpened = false;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (inString) {
      if (b === BACKSLASH) i++;
      else if (b === QUOTE) inString = false;
      continue;
    }
    if (arrayOpened && b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09) {
      arrayOpened = false;
      if (b !== CLOSE_ARRAY) keys++;
    }
    switch (b) {
      case QUOTE:
        inString = true;
        break;
      case OPEN_OBJECT:
      case OPEN_ARRAY:
        if (++depth > limits.maxDepth)
          return `the JSON body nests deeper than ${limits.maxDepth} levels (--json-max-depth)`;
        stack[depth] = b === OPEN_ARRAY ? 1 : 0;
        if (b === OPEN_ARRAY) arrayOpened = true;
        break;
      case CLOSE_OBJECT:
      case CLOSE_ARRAY:
        if (depth > 0) depth--;
        break;
      case COLON:
        keys++;
        break;
      case COMMA:
        if (stack[depth] === 1) keys++;
        break;
      default:
        continue;
    }
    if (keys > limits.maxKeys)
      return `the JSON body has more than ${limits.maxKeys} keys and array items (--json-max-keys)`;
  }
  return undefined;
}
