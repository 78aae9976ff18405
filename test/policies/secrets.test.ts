import { isSensitiveName } from "../../policies/rules/secrets";
import { buildStack, editProps, editResource, messagesOf, namesOf, violationsOf } from "./fixtures";

const n = namesOf("prod");
const addEnv = (env: Record<string, unknown>) =>
  editProps(buildStack(), n.deployment, (props) => props.spec.template.spec.containers[0].env.push(env));

describe("rule 9: secrets", () => {
  it("accepts the production Secret and env (secret stringData, secretKeyRef env)", async () => {
    expect(await violationsOf(buildStack(), "kubernetes-secret-data")).toEqual([]);
    expect(await violationsOf(buildStack(), "no-literal-secret-env")).toEqual([]);
  });

  it("rejects a Secret key whose value was not a Pulumi secret", async () => {
    const plan = editResource(buildStack(), n.secret, (secret) => {
      secret.secretPaths = secret.secretPaths.filter((path) => path !== "stringData.REDIS_URL");
    });
    const violations = await violationsOf(plan, "kubernetes-secret-data");
    expect(violations).toEqual([expect.objectContaining({ resource: n.secret, level: "mandatory" })]);
    expect(violations[0].message).toContain(
      `Secret "${n.secret}": stringData.REDIS_URL is a plain (non-secret) value; required a Pulumi secret`,
    );
    expect(violations[0].message).not.toContain("value-of-REDIS_URL");
  });

  it("accepts a Secret whose whole stringData was one secret", async () => {
    const plan = editResource(buildStack(), n.secret, (secret) => (secret.secretPaths = ["stringData"]));
    expect(await violationsOf(plan, "kubernetes-secret-data")).toEqual([]);
  });

  it("rejects a Secret whose outputs the engine would store in plain text", async () => {
    const plan = editResource(buildStack(), n.secret, (secret) => (secret.additionalSecretOutputs = []));
    expect(messagesOf(await violationsOf(plan, "kubernetes-secret-data"))).toEqual([
      expect.stringContaining('resource option additionalSecretOutputs is []; required to include "stringData"'),
    ]);
  });

  it("rejects a sensitive env var with a literal value, without printing it", async () => {
    const violations = await violationsOf(addEnv({ name: "LIVEKIT_API_KEY", value: "hunter2-key" }), "no-literal-secret-env");
    expect(violations).toEqual([expect.objectContaining({ resource: n.deployment, level: "mandatory" })]);
    expect(violations[0].message).toContain(
      `Deployment "${n.deployment}" container "app": spec.template.spec.containers[0].env[7] (LIVEKIT_API_KEY).value is a literal value (11 characters, not shown); required valueFrom.secretKeyRef`,
    );
    expect(violations[0].message).not.toContain("hunter2");
  });

  it("accepts sensitive names that come from a Secret, plain names with values, and allowed names", async () => {
    expect(
      await violationsOf(addEnv({ name: "DB_PASSWORD", valueFrom: { secretKeyRef: { name: "s", key: "k" } } }), "no-literal-secret-env"),
    ).toEqual([]);
    expect(await violationsOf(addEnv({ name: "LOG_LEVEL", value: "info" }), "no-literal-secret-env")).toEqual([]);
    const allowed = await violationsOf(addEnv({ name: "TOKEN_TTL_SECONDS", value: "600" }), "no-literal-secret-env", {
      "no-literal-secret-env": { allowedNames: ["TOKEN_TTL_SECONDS"] },
    });
    expect(allowed).toEqual([]);
  });

  it("recognises sensitive names by word", () => {
    for (const name of ["AUTH_JWT_SECRET", "DB_PASSWORD", "LIVEKIT_API_KEY", "APIKEY", "GITHUB_TOKEN", "api-keys"]) {
      expect([name, isSensitiveName(name, ["SECRET", "PASSWORD", "KEY", "TOKEN"])]).toEqual([name, true]);
    }
    for (const name of ["PORT", "LOG_LEVEL", "KEYSPACE_PREFIX", "INSTANCE_ID"]) {
      expect([name, isSensitiveName(name, ["SECRET", "PASSWORD", "KEY", "TOKEN"])]).toEqual([name, false]);
    }
  });
});
