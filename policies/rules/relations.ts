/**
 * Relating resources in a stack check.
 *
 * In a real preview of a new stack every ID is unknown, so resources are related through the
 * engine's dependency graph (a firewall depends on its cluster, a replica on its primary, an alert on
 * what it watches), never by comparing IDs.
 */
import type { PolicyResource } from "@pulumi/policy";

/** Whether `resource` depends on `target` (directly, or through one of its properties). */
export function dependsOn(resource: PolicyResource, target: PolicyResource): boolean {
  if (resource.dependencies.some((dependency) => dependency.urn === target.urn)) return true;
  return Object.values(resource.propertyDependencies).some((dependencies) => dependencies.some((d) => d.urn === target.urn));
}

/** The `candidates` that depend on `target`. */
export function dependentsOf(target: PolicyResource, candidates: readonly PolicyResource[]): PolicyResource[] {
  return candidates.filter((candidate) => dependsOn(candidate, target));
}
