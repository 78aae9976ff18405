/**
 * A stack whose users' tokens are verified with a JWKS URL (gomeet:app.jwksUrl): no generated HS256 secret,
 * AUTH_JWKS_URL in the pod, and a NetworkPolicy that lets the app fetch the key set.
 */
import { renderStack, type RenderedPlan } from "../../preview/render";
import { readStackFile } from "../../preview/stack-file";
import { all, one, PROGRAM, ROOT, temporaryStack } from "./plan-helpers";

/**
 * The name prefixes of the variant stack's two region cells (its own stack name; the standby of Pulumi.prod.yaml is tor1):
 * the key set must be usable from the app in every region.
 */
const cellPrefixes = (): string[] => [`gomeet-${plan.stack}`, `gomeet-${plan.stack}-tor1`];

let plan: RenderedPlan;
beforeAll(async () => {
  const variant = temporaryStack("prod", (config) => {
    config["gomeet:app"].jwksUrl = "https://auth.gomeet.example:8443/.well-known/jwks.json";
  });
  try {
    plan = await renderStack(readStackFile(ROOT, variant.stack), PROGRAM);
  } finally {
    variant.remove();
  }
});

test.each(["primary", "standby"] as const)(
  "%s region: the Secret has no AUTH_JWT_SECRET and nothing generates one; the pod gets AUTH_JWKS_URL",
  (role) => {
    const prefix = cellPrefixes()[role === "primary" ? 0 : 1]!;
    const secret = one(plan, "kubernetes:core/v1:Secret", `${prefix}-secrets`);
    expect(Object.keys(secret.props.stringData as object).sort()).toEqual([
      "DATABASE_REPLICA_URLS",
      "DATABASE_URL",
      "LIVEKIT_DATACENTERS",
      "REDIS_URL",
    ]);
    expect(
      all(plan, "random:index/randomPassword:RandomPassword")
        .map((r) => r.name)
        .filter((name) => name.endsWith("-auth-jwt-secret")),
    ).toEqual([]);
    const env = (one(plan, "kubernetes:apps/v1:Deployment", `${prefix}-app`).props as any).spec.template.spec.containers[0].env as Array<{
      name: string;
      value?: string;
    }>;
    expect(env.find((e) => e.name === "AUTH_JWKS_URL")?.value).toBe("https://auth.gomeet.example:8443/.well-known/jwks.json");
    expect(env.map((e) => e.name)).not.toContain("AUTH_JWT_SECRET");
  },
);

test.each(["primary", "standby"] as const)("%s region: the app may reach the key set's port on public addresses", (role) => {
  const prefix = cellPrefixes()[role === "primary" ? 0 : 1]!;
  const jwks = one(plan, "kubernetes:networking.k8s.io/v1:NetworkPolicy", `${prefix}-netpol-allow-jwks`).props as any;
  expect(jwks.spec.policyTypes).toEqual(["Egress"]);
  expect(jwks.spec.egress[0].ports).toEqual([{ protocol: "TCP", port: 8443 }]);
  expect(jwks.spec.egress[0].to[0].ipBlock.cidr).toBe("0.0.0.0/0");
});
