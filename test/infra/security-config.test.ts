/**
 * The security keys of gomeet:app: allowedOrigins (validated like the app's CORS_ALLOWED_ORIGINS, which the
 * infra program does not import), jwksUrl and rateLimits; the LiveKit ports the NetworkPolicy opens; the
 * Pod Security version taken from the cluster's version prefix.
 */
import * as pulumi from "@pulumi/pulumi";
import { parseOrigin } from "../../app/src/config";
import { loadConfig, stackOrigin, urlPorts } from "../../infra/config";
import { podSecurityVersion } from "../../infra/security-manifests";
import { readStackFile } from "../../preview/stack-file";
import { ROOT } from "./plan-helpers";

const prod = readStackFile(ROOT, "prod");

function loadApp(edit: (app: Record<string, unknown>) => void) {
  const config = { ...prod.config };
  const app = JSON.parse(config["gomeet:app"] as string) as Record<string, unknown>;
  edit(app);
  config["gomeet:app"] = JSON.stringify(app);
  pulumi.runtime.setAllConfig(config, prod.secretKeys);
  return loadConfig();
}

beforeAll(async () => {
  await pulumi.runtime.setMocks({ newResource: (a) => ({ id: a.name, state: a.inputs }), call: (a) => a.inputs }, "gomeet", "prod");
});

test("the stack and the app agree on what an origin is, and normalise it the same way", () => {
  // [item, the origin it stands for, or undefined: refused]. Fixed values, not the code's own answers.
  const cases: Array<[string, string | undefined]> = [
    ["https://app.gomeet.example", "https://app.gomeet.example"],
    ["HTTPS://App.Gomeet.Example:443", "https://app.gomeet.example"], // scheme and host lower-cased, default port dropped
    ["http://app.gomeet.example:80", "http://app.gomeet.example"],
    ["https://app.gomeet.example:8443", "https://app.gomeet.example:8443"],
    ["http://127.0.0.1:5173", "http://127.0.0.1:5173"],
    ["http://[::1]:8080", "http://[::1]:8080"],
    ["https://app.gomeet.example/", undefined], // a path, even "/"
    ["https://app.gomeet.example/x", undefined],
    ["https://u@app.gomeet.example", undefined], // credentials
    ["https://app.gomeet.example?q", undefined], // a query
    ["*", undefined],
    ["null", undefined],
    ["app.gomeet.example", undefined], // no scheme
    ["wss://app.gomeet.example", undefined], // not http(s)
  ];
  for (const [item, expected] of cases) {
    let app: string | undefined;
    try {
      app = parseOrigin(item);
    } catch {
      app = undefined;
    }
    expect([item, app, stackOrigin(item)]).toEqual([item, expected, expected]);
  }
});

test("prod: allowedOrigins, no JWKS URL, default rate limits", () => {
  pulumi.runtime.setAllConfig(prod.config, prod.secretKeys);
  const { app, livekitPorts } = loadConfig();
  expect(app.allowedOrigins).toEqual(["https://app.gomeet.example"]);
  expect(app.jwksUrl).toBeUndefined();
  expect(app.rateLimits).toEqual({ windowSeconds: 60, roomCreates: 20, livekitGrants: 120 });
  expect(livekitPorts).toEqual([443]);
});

test("a bad origin, a plain-http JWKS URL or an out-of-range limit stops the program, naming the key", () => {
  expect(() => loadApp((app) => (app.allowedOrigins = ["https://app.gomeet.example/path"]))).toThrow(
    'gomeet:app.allowedOrigins.0: got "https://app.gomeet.example/path"; expected an origin: scheme://host[:port] (http or https) ' +
      "with no path, query, fragment or credentials",
  );
  expect(() => loadApp((app) => (app.jwksUrl = "http://auth.example/jwks.json"))).toThrow("gomeet:app.jwksUrl: got");
  expect(() => loadApp((app) => (app.rateLimits = { roomCreates: 0 }))).toThrow("gomeet:app.rateLimits.roomCreates: got 0");
});

test("LiveKit ports: 443 for wss:// without a port, the URL's own port otherwise", () => {
  expect(urlPorts(["wss://a.example", "wss://b.example:7880", "ws://c.example", "wss://d.example:443"])).toEqual([80, 443, 7880]);
});

test("the Pod Security version is the cluster's minor", () => {
  expect(podSecurityVersion("1.33.")).toBe("v1.33");
  expect(() => podSecurityVersion("latest")).toThrow('"latest" is not a version prefix');
});
