/**
 * Entry point of the policy pack for the Pulumi CLI
 * (`pulumi preview --policy-pack policies [--policy-pack-config policies/config/<stack>.json]`).
 *
 * Constructing a PolicyPack starts the analyzer's gRPC server and keeps the process alive: nothing
 * but the CLI may import this file. Tests and the offline preview use `policies.ts` and `preview/runner.ts`.
 */
import { PolicyPack } from "@pulumi/policy";
import { packEnforcementLevel, packName, policies } from "./policies";

new PolicyPack(packName, { policies, enforcementLevel: packEnforcementLevel });
