/**
 * Rule 9: secrets never travel as plain values.
 *
 * - A Kubernetes Secret's `data`/`stringData` is a Pulumi secret: the engine must treat those outputs
 *   as secret (`additionalSecretOutputs`, which the kubernetes SDK sets), and, where the offline runner
 *   knows which inputs were secrets, every key must have been one (not a literal in code or plain
 *   stack config).
 * - No container env var whose name says SECRET, PASSWORD, KEY or TOKEN carries a value of its own:
 *   it must come from a Secret (`valueFrom.secretKeyRef`). Messages never print the value.
 */
import * as k8s from "@pulumi/kubernetes";
import { validateResourceOfType, type ReportViolation, type ResourceValidationArgs, type ResourceValidationPolicy } from "@pulumi/policy";
import { secretPathsOf } from "./offline-context";
import { containersOf, podSpecOf } from "./kubernetes-objects";
import { describe, list, message, readOrUnknown, record, subject, text, UNKNOWN } from "./props";
import { configSchemaOf, readSettings, stringListSetting } from "./settings";

/** The Secret fields that hold secret values. */
const SECRET_FIELDS = ["data", "stringData"] as const;

/** Whether one of the secret paths covers `field.key` (the whole field, or the key in dot or bracket form). */
export function coversKey(secretPaths: readonly string[], fieldName: string, key: string): boolean {
  const forms = [fieldName, `${fieldName}.${key}`, `${fieldName}["${key}"]`, `${fieldName}['${key}']`];
  return secretPaths.some((path) => forms.includes(path));
}

export const kubernetesSecretData: ResourceValidationPolicy = {
  name: "kubernetes-secret-data",
  description: "Kubernetes Secret data is a Pulumi secret: encrypted in the state and never a plain value in code or config.",
  validateResource: validateResourceOfType(k8s.core.v1.Secret, (_secret, args, reportViolation) => {
    const resource = subject(args.type, args.name);
    const secretPaths = secretPathsOf(args);
    for (const fieldName of SECRET_FIELDS) {
      if (!(fieldName in args.props)) continue;
      if (!args.opts.additionalSecretOutputs.includes(fieldName)) {
        reportViolation(
          message({
            resource,
            property: "resource option additionalSecretOutputs",
            found: describe(args.opts.additionalSecretOutputs),
            required: `to include "${fieldName}"`,
            reason: "Otherwise the state stores the Secret's values in plain text.",
          }),
        );
      }
      // The engine does not say which inputs were secrets; only the offline runner does.
      const values = readOrUnknown(() => record(args.props[fieldName]));
      if (secretPaths === undefined || values === UNKNOWN || values === undefined) continue;
      for (const key of Object.keys(values).filter((k) => !coversKey(secretPaths, fieldName, k))) {
        reportViolation(
          message({
            resource,
            property: `${fieldName}.${key}`,
            found: "a plain (non-secret) value",
            required: "a Pulumi secret (pulumi.secret(...), a secret config value, or a secret output)",
            reason: "A plain value sits unencrypted in the program or in Pulumi.<stack>.yaml and shows in previews.",
          }),
        );
      }
    }
  }),
};

const envSettings = {
  sensitiveNameParts: stringListSetting(["SECRET", "PASSWORD", "KEY", "TOKEN"], "Words that mark an env var name as sensitive."),
  allowedNames: stringListSetting([], "Env var names exempt from the check (names that only look sensitive)."),
};

/** Whether an env var name says it holds a secret: a word of it is (or ends with) a sensitive part. */
export function isSensitiveName(name: string, parts: readonly string[]): boolean {
  const words = name
    .toUpperCase()
    .split(/[^A-Z0-9]+/)
    .filter((w) => w.length > 0);
  const upperParts = parts.map((p) => p.toUpperCase());
  return words.some((word) => upperParts.some((part) => word === part || word === `${part}S` || word.endsWith(part)));
}

function checkEnv(args: ResourceValidationArgs, reportViolation: ReportViolation): void {
  const { sensitiveNameParts, allowedNames } = readSettings(args, envSettings);
  for (const { path, label, container } of containersOf(podSpecOf(args.props), true)) {
    list(container.env).forEach((item, index) => {
      const env = record(item);
      const name = text(env?.name);
      if (!env || name === undefined || allowedNames.includes(name) || !isSensitiveName(name, sensitiveNameParts)) return;
      if (!("value" in env)) return;
      const value = readOrUnknown(() => env.value);
      if (value !== UNKNOWN && (typeof value !== "string" || value.length === 0)) return;
      reportViolation(
        message({
          resource: `${subject(args.type, args.name)} container "${label}"`,
          property: `${path}.env[${index}] (${name}).value`,
          found: value === UNKNOWN ? "a value computed at apply time" : `a literal value (${value.length} characters, not shown)`,
          required: "valueFrom.secretKeyRef to a Kubernetes Secret",
          reason: "A value in the pod spec is readable by anyone who can read the Deployment, and lands in its history.",
        }),
      );
    });
  }
}

export const noLiteralSecretEnv: ResourceValidationPolicy = {
  name: "no-literal-secret-env",
  description: "Container env vars named like secrets (SECRET, PASSWORD, KEY, TOKEN) come from a Secret, never a value in the pod spec.",
  configSchema: configSchemaOf(envSettings),
  validateResource: [
    validateResourceOfType(k8s.apps.v1.Deployment, (_workload, args, reportViolation) => checkEnv(args, reportViolation)),
    validateResourceOfType(k8s.apps.v1.StatefulSet, (_workload, args, reportViolation) => checkEnv(args, reportViolation)),
    validateResourceOfType(k8s.apps.v1.DaemonSet, (_workload, args, reportViolation) => checkEnv(args, reportViolation)),
  ],
};

/** Rule 9. */
export const secretPolicies = [kubernetesSecretData, noLiteralSecretEnv];
