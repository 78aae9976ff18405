/**
 * Bounds on the shape of a client's JSON value, checked without recursion: a value nested thousands
 * of levels deep parses fine (JSON.parse is iterative) but makes JSON.stringify, and any recursive
 * walk, throw RangeError. Checked once, when the frame is validated, before anything serialises it.
 */

export interface JsonShapeLimits {
  /** WS_MAX_DATA_DEPTH: most levels of nested arrays/objects (a scalar is depth 0, `[1]` is 1). */
  maxDepth: number;
  /** WS_MAX_DATA_NODES: most values in all (every array element, object member and the value itself). */
  maxNodes: number;
}

/** What is wrong with `value`'s shape (naming the bound and its variable), or undefined when it is within `limits`. */
export function jsonShapeProblem(value: unknown, limits: JsonShapeLimits): string | undefined {
  const stack: Array<{ value: unknown; depth: number }> = [{ value, depth: 0 }];
  let nodes = 0;
  while (stack.length > 0) {
    const item = stack.pop() as { value: unknown; depth: number };
    nodes++;
    if (nodes > limits.maxNodes) return `data has more than ${limits.maxNodes} values (WS_MAX_DATA_NODES)`;
    if (item.value === null || typeof item.value !== "object") continue;
    const depth = item.depth + 1;
    if (depth > limits.maxDepth) return `data is nested deeper than ${limits.maxDepth} levels (WS_MAX_DATA_DEPTH)`;
    const children = Array.isArray(item.value) ? (item.value as unknown[]) : Object.values(item.value as Record<string, unknown>);
    if (nodes + stack.length + children.length > limits.maxNodes) return `data has more than ${limits.maxNodes} values (WS_MAX_DATA_NODES)`;
    for (const child of children) stack.push({ value: child, depth });
  }
  return undefined;
}
