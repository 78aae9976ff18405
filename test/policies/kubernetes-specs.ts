/**
 * Kubernetes specs of the policy-test stack, as the infra program renders them: the app Deployment, the load
 * balancer Service's annotations, the app namespace's NetworkPolicies, and the labels and Secret keys they share.
 */
import type { StackKnobs } from "./stack-knobs";

export const APP_LABELS = Object.freeze({ "app.kubernetes.io/name": "gomeet", "app.kubernetes.io/component": "realtime" });
const LB = "service.beta.kubernetes.io/do-loadbalancer";
export const SECRET_KEYS = ["DATABASE_URL", "DATABASE_REPLICA_URLS", "REDIS_URL", "LIVEKIT_DATACENTERS", "AUTH_JWT_SECRET"];

export function deploymentProps(k: StackKnobs): Record<string, unknown> {
  const labels = { ...APP_LABELS };
  const probe = (path: string) => ({ httpGet: { path, port: "http" }, periodSeconds: 5, timeoutSeconds: 2 });
  return {
    metadata: { name: "gomeet", namespace: "gomeet", labels },
    spec: {
      replicas: k.appReplicas,
      minReadySeconds: 10,
      strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      selector: { matchLabels: labels },
      template: {
        metadata: { labels, annotations: { "gomeet.dev/livekit-deployments": k.livekitDeployments.join(",") } },
        spec: {
          terminationGracePeriodSeconds: 55,
          serviceAccountName: "gomeet",
          automountServiceAccountToken: false,
          priorityClassName: "gomeet-realtime",
          securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: "RuntimeDefault" } },
          topologySpreadConstraints: [
            {
              maxSkew: 1,
              topologyKey: "kubernetes.io/hostname",
              whenUnsatisfiable: "DoNotSchedule",
              labelSelector: { matchLabels: labels },
            },
            {
              maxSkew: 1,
              topologyKey: "topology.kubernetes.io/zone",
              whenUnsatisfiable: "ScheduleAnyway",
              labelSelector: { matchLabels: labels },
            },
          ],
          containers: [
            {
              name: "app",
              image: k.image,
              ports: [{ name: "http", containerPort: 8080 }],
              env: [
                { name: "PORT", value: "8080" },
                { name: "INSTANCE_ID", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
                ...SECRET_KEYS.map((key) => ({ name: key, valueFrom: { secretKeyRef: { name: "gomeet-secrets", key } } })),
              ],
              resources: { requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "1", memory: "512Mi" } },
              startupProbe: probe("/healthz"),
              readinessProbe: probe("/readyz"),
              livenessProbe: probe("/healthz"),
              lifecycle: { preStop: { exec: { command: ["sleep", "10"] } } },
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                privileged: false,
                capabilities: { drop: ["ALL"] },
              },
            },
          ],
        },
      },
    },
  };
}

export function serviceAnnotations(k: StackKnobs): Record<string, string> {
  return {
    [`${LB}-type`]: "REGIONAL",
    [`${LB}-name`]: `gomeet-${k.stack}-lb`,
    [`${LB}-protocol`]: "http",
    [`${LB}-size-unit`]: "2",
    [`${LB}-override-health-check`]: "true",
    [`${LB}-healthcheck-path`]: "/readyz",
    [`${LB}-healthcheck-protocol`]: "http",
    [`${LB}-healthcheck-port`]: "80",
    [`${LB}-healthcheck-unhealthy-threshold`]: "3",
    [`${LB}-http-idle-timeout-seconds`]: k.idleTimeoutSeconds,
    [`${LB}-certificate-name`]: `gomeet-${k.stack}-cert`,
    [`${LB}-tls-ports`]: "443",
    [`${LB}-disable-lets-encrypt-dns-records`]: "true",
  };
}

/** The app namespace's NetworkPolicies as infra/security-manifests.ts renders them (by name). */
export function networkPolicySpecs(): Record<string, Record<string, unknown>> {
  const app = { matchLabels: { ...APP_LABELS } };
  const publicInternet = {
    ipBlock: { cidr: "0.0.0.0/0", except: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "100.64.0.0/10"] },
  };
  return {
    "default-deny": { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
    "allow-load-balancer": { podSelector: app, policyTypes: ["Ingress"], ingress: [{ ports: [{ protocol: "TCP", port: 8080 }] }] },
    "allow-monitoring-scrape": {
      podSelector: app,
      policyTypes: ["Ingress"],
      ingress: [
        {
          from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } } }],
          ports: [{ protocol: "TCP", port: 8080 }],
        },
      ],
    },
    "allow-dns": {
      podSelector: {},
      policyTypes: ["Egress"],
      egress: [
        {
          to: [
            {
              namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
              podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
            },
          ],
          ports: [
            { protocol: "UDP", port: 53 },
            { protocol: "TCP", port: 53 },
          ],
        },
      ],
    },
    "allow-databases": {
      podSelector: app,
      policyTypes: ["Egress"],
      egress: [
        {
          to: [{ ipBlock: { cidr: "10.20.0.0/16" } }],
          ports: [
            { protocol: "TCP", port: 25060 },
            { protocol: "TCP", port: 25061 },
          ],
        },
      ],
    },
    "allow-livekit": {
      podSelector: app,
      policyTypes: ["Egress"],
      egress: [{ to: [publicInternet], ports: [{ protocol: "TCP", port: 443 }] }],
    },
  };
}
