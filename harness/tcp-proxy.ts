/**
 * A TCP forwarder standing in for a managed Valkey endpoint whose address moves to the new primary
 * on failover while connections already open stay on the old node (the case the app must detect
 * itself: a demoted node keeps accepting PUBLISH). It can also cut every connection and hold new
 * ones (an endpoint outage).
 */
import net from "node:net";
import type { AddressInfo } from "node:net";
import { onStopAll } from "./process";

export interface Target {
  host: string;
  port: number;
}

export interface SwitchableProxy {
  url: string;
  /** New connections go to `target`; open ones stay where they are. */
  switchTo(target: Target): void;
  /** Destroys every open connection; while `hold` is true, new ones are accepted but not forwarded. */
  cut(hold: boolean): void;
  /** Forwards the connections held meanwhile. */
  release(): void;
  /** Open connections stop forwarding in both directions without being closed (a silent partition); new ones work. */
  freeze(): void;
  stop(): Promise<void>;
}

export async function startSwitchableProxy(initial: Target): Promise<SwitchableProxy> {
  let target = initial;
  let holding = false;
  const open = new Set<net.Socket>();
  const pairs = new Set<[net.Socket, net.Socket]>();
  const held: net.Socket[] = [];

  const forward = (client: net.Socket): void => {
    const upstream = net.connect(target.port, target.host);
    open.add(client);
    open.add(upstream);
    const pair: [net.Socket, net.Socket] = [client, upstream];
    pairs.add(pair);
    const drop = (): void => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
      pairs.delete(pair);
    };
    client.on("error", drop).on("close", drop);
    upstream.on("error", drop).on("close", drop);
    client.pipe(upstream).pipe(client);
  };

  const server = net.createServer((client) => {
    if (holding) {
      client.on("error", () => client.destroy());
      held.push(client);
      return;
    }
    forward(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const stop = async (): Promise<void> => {
    for (const socket of [...open, ...held]) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  const unregister = onStopAll(stop);
  return {
    url: `redis://127.0.0.1:${(server.address() as AddressInfo).port}`,
    switchTo: (next) => {
      target = next;
    },
    cut: (hold) => {
      holding = hold;
      for (const socket of open) socket.destroy();
      open.clear();
    },
    freeze: () => {
      for (const [client, upstream] of pairs) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.pause();
        upstream.pause();
      }
      pairs.clear();
    },
    release: () => {
      holding = false;
      for (const client of held.splice(0)) if (!client.destroyed) forward(client);
    },
    stop: async () => {
      unregister();
      await stop();
    },
  };
}
