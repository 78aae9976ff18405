/**
 * A stand-in for the part of DigitalOcean's API the failover driver calls, on 127.0.0.1: in-memory load balancers,
 * database clusters with a replica, pools and uptime check states. Every request is checked against the published
 * OpenAPI definitions (./openapi-validator.ts) and so is every answer it gives; what does not validate is recorded
 * in `violations` (and answered 400), which the tests expect to stay empty.
 */
import { randomUUID } from "node:crypto";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { OpenApiValidator } from "./openapi-validator";

export interface StandInCluster {
  id: string;
  name: string;
  engine: "pg";
  version: string;
  num_nodes: number;
  size: string;
  region: string;
  status: "creating" | "online" | "resizing";
  created_at: string;
  rules: { type: string; value: string; description?: string }[];
  pools: Record<string, { name: string; mode: string; size: number; db: string; user?: string }>;
  replicas: Record<string, { id: string; name: string; region: string; size: string; status: string; created_at: string }>;
}

export interface StandInState {
  loadBalancers: Record<string, Record<string, unknown> & { id: string }>;
  clusters: Record<string, StandInCluster>;
  uptime: Record<string, Record<string, "UP" | "DOWN" | "CHECKING">>;
}

export interface RecordedRequest {
  method: string;
  path: string;
  body?: unknown;
}

export class StandInApi {
  readonly token = `dop_v1_${randomUUID().replace(/-/g, "")}`;
  readonly requests: RecordedRequest[] = [];
  readonly violations: string[] = [];
  /** Polls of a promoted cluster answered "creating" before it is "online". */
  promotingPolls = 1;
  private readonly faults: { method: string; path: string; status: number; times: number }[] = [];
  private readonly validator = new OpenApiValidator();
  private server?: http.Server;
  url = "";

  constructor(readonly state: StandInState) {}

  /** The next `times` requests `method path` are answered `status`. */
  fail(method: string, path: string, status: number, times = 1): void {
    this.faults.push({ method, path, status, times });
  }

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** The requests that change something (not GETs). */
  mutations(): RecordedRequest[] {
    return this.requests.filter((r) => r.method !== "GET");
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    const method = req.method ?? "GET";
    const path = new URL(req.url ?? "/", "http://x").pathname;
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      return this.send(res, method, path, 400, { id: "bad_request", message: "body is not JSON" }, `${method} ${path}: body is not JSON`);
    }
    this.requests.push({ method, path, ...(body === undefined ? {} : { body }) });
    if (req.headers.authorization !== `Bearer ${this.token}`)
      return this.send(res, method, path, 401, { id: "unauthorized", message: "Unable to authenticate you" });
    if (body !== undefined && req.headers["content-type"] !== "application/json") {
      return this.send(
        res,
        method,
        path,
        400,
        { id: "bad_request", message: "content-type" },
        `${method} ${path}: content-type is not application/json`,
      );
    }
    const problems = this.validator.validateRequest(method, path, body);
    if (problems.length > 0) return this.send(res, method, path, 400, { id: "bad_request", message: problems.join("; ") }, ...problems);
    const fault = this.faults.find((f) => f.method === method && f.path === path && f.times > 0);
    if (fault) {
      fault.times--;
      return this.send(res, method, path, fault.status, { id: "server_error", message: "injected fault" });
    }
    const [status, answer] = this.route(method, path, body as Record<string, any> | undefined);
    this.send(res, method, path, status, answer);
  }

  private send(res: http.ServerResponse, method: string, path: string, status: number, answer: unknown, ...violations: string[]): void {
    this.violations.push(...violations, ...this.validator.validateResponse(method, path, status, answer));
    res.writeHead(status, answer === undefined ? {} : { "content-type": "application/json" });
    res.end(answer === undefined ? undefined : JSON.stringify(answer));
  }

  private route(method: string, path: string, body: Record<string, any> | undefined): [number, unknown] {
    const notFound: [number, unknown] = [404, { id: "not_found", message: "The resource you were accessing could not be found." }];
    const s = this.state;
    let m: RegExpExecArray | null;
    if ((m = /^\/v2\/load_balancers\/([^/]+)$/.exec(path))) {
      const lb = s.loadBalancers[m[1]!];
      if (!lb) return notFound;
      if (method === "PUT") Object.assign(lb, body);
      return [200, { load_balancer: lb }];
    }
    if ((m = /^\/v2\/uptime\/checks\/([^/]+)\/state$/.exec(path))) {
      const regions = s.uptime[m[1]!];
      if (!regions) return notFound;
      return [200, { state: { regions: Object.fromEntries(Object.entries(regions).map(([r, status]) => [r, { status }])) } }];
    }
    if ((m = /^\/v2\/databases\/([^/]+)\/replicas\/([^/]+)(\/promote)?$/.exec(path))) {
      const cluster = s.clusters[m[1]!];
      const replica = cluster?.replicas[m[2]!];
      if (!cluster || !replica) return notFound;
      if (!m[3]) return [200, { replica }];
      delete cluster.replicas[replica.name];
      s.clusters[replica.id] = {
        id: replica.id,
        name: replica.name,
        engine: "pg",
        version: cluster.version,
        num_nodes: 1,
        size: replica.size,
        region: replica.region,
        status: "creating",
        created_at: replica.created_at,
        rules: [],
        pools: {},
        replicas: {},
      };
      this.polls.set(replica.id, this.promotingPolls);
      return [204, undefined];
    }
    if ((m = /^\/v2\/databases\/([^/]+)(?:\/(firewall|pools|resize)(?:\/([^/]+))?)?$/.exec(path))) {
      const cluster = s.clusters[m[1]!];
      if (!cluster) return notFound;
      const [, , sub, name] = m;
      if (!sub) return [200, { database: this.view(cluster) }];
      if (sub === "firewall") {
        if (method === "GET") return [200, { rules: cluster.rules }];
        cluster.rules = body!.rules;
        return [204, undefined];
      }
      if (sub === "resize") {
        cluster.num_nodes = body!.num_nodes;
        cluster.size = body!.size;
        return [202, undefined];
      }
      if (method === "GET") return cluster.pools[name!] ? [200, { pool: cluster.pools[name!] }] : notFound;
      cluster.pools[body!.name] = { name: body!.name, mode: body!.mode, size: body!.size, db: body!.db, user: body!.user };
      return [201, { pool: cluster.pools[body!.name] }];
    }
    return notFound;
  }

  private readonly polls = new Map<string, number>();

  /** A cluster as GET /v2/databases/{uuid} shows it; a promoted one is "creating" for `promotingPolls` polls. */
  private view(cluster: StandInCluster): Record<string, unknown> {
    const left = this.polls.get(cluster.id) ?? 0;
    if (left > 0) this.polls.set(cluster.id, left - 1);
    else if (cluster.status === "creating") cluster.status = "online";
    const { rules: _rules, pools: _pools, replicas: _replicas, ...database } = cluster;
    return database;
  }
}
