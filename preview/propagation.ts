/**
 * Replacement propagation, as the engine does it: a replaced resource's outputs are unknown until it is created
 * again, so every input that refers to them becomes unknown. A dependent whose unknown input is one that forces
 * replacement (ForceNew) is replaced too, otherwise it is updated; a resource whose provider is replaced is
 * replaced. Which input refers to which resource is the engine's own record, `propertyDependencies`, kept by the
 * offline renderer for each registration (`inputDependencies` in the preview document).
 */
import { TYPE } from "../infra/type-tokens";
import { resourceRef, type PreviewResource } from "./format";
import { forcesReplacement } from "./replacement-rules";

/** A property whose new value is unknown until apply because `because` is replaced. */
export interface UnknownInput {
  path: string;
  old?: unknown;
  because: string;
  replaces: boolean;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function childPath(parent: string, key: string | number): string {
  if (typeof key === "number") return `${parent}[${key}]`;
  if (/^[A-Za-z_$][\w$-]*$/.test(key)) return parent ? `${parent}.${key}` : key;
  return `${parent}[${JSON.stringify(key)}]`;
}

function leaves(value: unknown, path: string): [string, unknown][] {
  if (isObject(value)) return Object.entries(value).flatMap(([k, v]) => leaves(v, childPath(path, k)));
  if (Array.isArray(value)) return value.flatMap((v, i) => leaves(v, childPath(path, i)));
  return [[path, value]];
}

/** A field that holds a reference by name (`name`, `namespace`, `secretName`, …), not a map key such as a label. */
const REFERENCE_FIELD = /(^|\.)(name|namespace|user|[a-z]+Name)$/;

/**
 * The leaf paths of `value` that carry an output of `dependency`: its id (`<name>-id` in the offline runtime) or a
 * computed string built from its name (hosts, URNs, tags) anywhere; its name itself only where a name is referenced
 * (the input itself, or a `name`/`namespace`/`…Name` field), so a label that happens to equal it is not taken for it.
 * A Namespace's name flows only into `namespace` fields. Empty when none is recognisable.
 */
export function pathsFrom(value: unknown, property: string, dependency: PreviewResource): string[] {
  const names = [dependency.props.name, (dependency.props.metadata as Record<string, unknown> | undefined)?.name].filter(
    (n): n is string => typeof n === "string" && n.length > 0,
  );
  const namespace = dependency.type === TYPE.namespace;
  const byName = (path: string) => (namespace ? /\.namespace$/.test(path) : path === property || REFERENCE_FIELD.test(path));
  return leaves(value, property)
    .filter(([p, v]) => typeof v === "string" && (v.includes(dependency.name) || (names.includes(v) && byName(p))))
    .map(([p]) => p);
}

function valueAt(props: Record<string, unknown>, property: string, path: string): unknown {
  return leaves(props[property], property).find(([p]) => p === path)?.[1] ?? (path === property ? props[property] : undefined);
}

/**
 * The inputs of `resource` that become unknown because of the `replaced` resources (refs), with whether each
 * forces its replacement. `old` is read from the base side's props.
 */
export function unknownInputs(resource: PreviewResource, before: PreviewResource, replaced: Map<string, PreviewResource>): UnknownInput[] {
  const out: UnknownInput[] = [];
  for (const [property, refs] of Object.entries(resource.inputDependencies ?? {})) {
    for (const ref of refs) {
      const dependency = replaced.get(ref);
      if (!dependency) continue;
      const found = pathsFrom(before.props[property], property, dependency);
      // Nothing recognisable (a secret, a value transformed beyond recognition): the whole input is unknown.
      const paths = found.length ? found : [property];
      for (const path of paths) {
        if (out.some((u) => u.path === path)) continue;
        const old = valueAt(before.props, property, path);
        out.push({
          path,
          ...(old !== undefined ? { old } : {}),
          because: `${dependency.name} is replaced`,
          replaces: forcesReplacement(resource.type, { path, old }),
        });
      }
    }
  }
  if (resource.provider && replaced.has(resource.provider)) {
    const provider = replaced.get(resource.provider)!;
    out.push({ path: "(provider)", old: provider.name, because: `its provider ${provider.name} is replaced`, replaces: true });
  }
  return out;
}

/**
 * Propagates replacements through the head plan until nothing changes. `replacedRefs` are the resources replaced
 * by their own changes; `matched` maps a head ref to its base resource. Returns, per head ref, the unknown inputs.
 */
export function propagate(
  head: PreviewResource[],
  matched: Map<string, PreviewResource>,
  replacedRefs: Set<string>,
): Map<string, UnknownInput[]> {
  const byRef = new Map(head.map((r) => [resourceRef(r), r]));
  const replaced = new Map([...replacedRefs].flatMap((ref) => (byRef.has(ref) ? [[ref, byRef.get(ref)!] as const] : [])));
  const result = new Map<string, UnknownInput[]>();
  for (let changed = true; changed;) {
    changed = false;
    for (const r of head) {
      const ref = resourceRef(r);
      const before = matched.get(ref);
      if (!before) continue;
      const inputs = unknownInputs(r, before, replaced);
      if (inputs.length === (result.get(ref)?.length ?? 0)) continue;
      result.set(ref, inputs);
      changed = true;
      if (inputs.some((u) => u.replaces) && !replaced.has(ref)) replaced.set(ref, r);
    }
  }
  return result;
}
