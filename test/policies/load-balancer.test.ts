import { buildStack, editProps, messagesOf, namesOf, violationsOf } from "./fixtures";

const n = namesOf("prod");
const POLICY = "load-balancer-configuration";
const LB = "service.beta.kubernetes.io/do-loadbalancer";
const withAnnotation = (suffix: string, value: string | undefined) =>
  editProps(buildStack(), n.service, (props) => {
    if (value === undefined) delete props.metadata.annotations[`${LB}-${suffix}`];
    else props.metadata.annotations[`${LB}-${suffix}`] = value;
  });

describe("rule 7: the load balancer", () => {
  it("accepts the production Service (REGIONAL, /readyz health check, 600 s idle timeout)", async () => {
    expect(await violationsOf(buildStack(), POLICY)).toEqual([]);
  });

  it("rejects a load balancer type other than REGIONAL", async () => {
    const violations = await violationsOf(withAnnotation("type", "REGIONAL_NETWORK"), POLICY);
    expect(violations).toEqual([expect.objectContaining({ resource: n.service, level: "mandatory" })]);
    expect(violations[0].message).toContain(
      `Service "${n.service}": metadata.annotations["${LB}-type"] is "REGIONAL_NETWORK"; required "REGIONAL".`,
    );
  });

  it("requires the health-check override and the readiness path", async () => {
    expect(messagesOf(await violationsOf(withAnnotation("override-health-check", undefined), POLICY))).toEqual([
      expect.stringContaining(`metadata.annotations["${LB}-override-health-check"] is unset; required "true"`),
    ]);
    expect(messagesOf(await violationsOf(withAnnotation("healthcheck-path", "/healthz"), POLICY))).toEqual([
      expect.stringContaining(`metadata.annotations["${LB}-healthcheck-path"] is "/healthz"; required "/readyz"`),
    ]);
  });

  it.each([["60"], ["900"], ["ten"]])("rejects an idle timeout of %s seconds", async (value) => {
    expect(messagesOf(await violationsOf(withAnnotation("http-idle-timeout-seconds", value), POLICY))).toEqual([
      expect.stringContaining(`-http-idle-timeout-seconds"] is "${value}"; required a string of seconds from 600 to 600`),
    ]);
  });

  it("rejects a missing idle timeout (DigitalOcean's 60 s default cuts quiet WebSockets)", async () => {
    expect(await violationsOf(withAnnotation("http-idle-timeout-seconds", undefined), POLICY)).toHaveLength(1);
  });

  it("ignores Services that are not load balancers", async () => {
    const plan = editProps(buildStack(), n.service, (props) => {
      props.spec.type = "ClusterIP";
      props.metadata.annotations = {};
    });
    expect(await violationsOf(plan, POLICY)).toEqual([]);
  });
});

describe("rule 7: what DigitalOcean does around the load balancer", () => {
  it("requires disable-lets-encrypt-dns-records on a Service with a certificate (else DigitalOcean takes the zone apex)", async () => {
    expect(await violationsOf(buildStack(), "load-balancer-lets-encrypt-dns")).toEqual([]);
    const violations = await violationsOf(withAnnotation("disable-lets-encrypt-dns-records", undefined), "load-balancer-lets-encrypt-dns");
    expect(violations).toEqual([expect.objectContaining({ resource: n.service, level: "mandatory" })]);
    expect(violations[0]!.message).toContain(
      `metadata.annotations["${LB}-disable-lets-encrypt-dns-records"] is unset; required "true" (the Service sets ${LB}-certificate-name)`,
    );
    expect(await violationsOf(withAnnotation("disable-lets-encrypt-dns-records", "false"), "load-balancer-lets-encrypt-dns")).toHaveLength(
      1,
    );
  });

  it("does not ask for it without a certificate", async () => {
    const plan = editProps(buildStack(), n.service, (props) => {
      delete props.metadata.annotations[`${LB}-certificate-name`];
      delete props.metadata.annotations[`${LB}-disable-lets-encrypt-dns-records`];
    });
    expect(await violationsOf(plan, "load-balancer-lets-encrypt-dns")).toEqual([]);
  });

  it.each([["Cluster"], [undefined]])("rejects externalTrafficPolicy %s (the /readyz check would reach a random pod)", async (value) => {
    const plan = editProps(buildStack(), n.service, (props) => {
      if (value === undefined) delete props.spec.externalTrafficPolicy;
      else props.spec.externalTrafficPolicy = value;
    });
    const violations = await violationsOf(plan, "load-balancer-traffic-policy");
    expect(messagesOf(violations)).toEqual([
      expect.stringContaining(`spec.externalTrafficPolicy is ${value === undefined ? "unset" : '"Cluster"'}; required "Local"`),
    ]);
    expect(await violationsOf(buildStack(), "load-balancer-traffic-policy")).toEqual([]);
  });
});
