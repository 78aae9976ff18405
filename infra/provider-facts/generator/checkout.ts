/** A checkout of one of the four sources the provider facts are distilled from (generate.ts). */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

export const REPOSITORIES = {
  pulumi: "pulumi/pulumi-digitalocean",
  terraform: "digitalocean/terraform-provider-digitalocean",
  ccm: "digitalocean/digitalocean-cloud-controller-manager",
  openapi: "digitalocean/openapi",
} as const;
export type Repo = keyof typeof REPOSITORIES;

/** A checkout: a work tree or a bare git directory. */
export class Checkout {
  readonly commit: string;
  constructor(
    readonly repo: Repo,
    readonly dir: string,
  ) {
    this.commit = execFileSync("git", ["-C", dir, "rev-parse", "HEAD"], { encoding: "utf8" }).trim();
  }
  read(file: string): string {
    const onDisk = path.join(this.dir, file);
    if (fs.existsSync(onDisk)) return fs.readFileSync(onDisk, "utf8");
    return execFileSync("git", ["-C", this.dir, "show", `${this.commit}:${file}`], { encoding: "utf8", maxBuffer: 64 << 20 });
  }
  list(dir: string): string[] {
    return execFileSync("git", ["-C", this.dir, "ls-tree", "--name-only", this.commit, `${dir}/`], { encoding: "utf8" })
      .trim()
      .split("\n");
  }
  source(file: string): string {
    return `${REPOSITORIES[this.repo]}@${this.commit}:${file}`;
  }
}
