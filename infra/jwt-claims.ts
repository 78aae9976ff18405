/**
 * The `iss` and `aud` users' tokens must carry (`gomeet:app.jwtIssuer` / `jwtAudience`, the app's AUTH_JWT_ISSUER /
 * AUTH_JWT_AUDIENCE), and the rule that a production stack sets both.
 */
import { z } from "zod";
import { projectEnvironment } from "./project";

/** An `iss` or `aud` value: printable, no surrounding spaces (the app compares it exactly). */
export const jwtClaim = z.string().regex(/^\S(.{0,254}\S)?$/, "1-256 printable characters without leading or trailing spaces");

/**
 * What a production stack (the project environment `Production`: a stack name containing "prod") lacks of the two, or
 * undefined. Without them the app accepts any token signed with its key, including one minted for another service
 * that shares the issuer's key set. A config rule rather than a policy: it names the key to set, and stops the program
 * (and `pulumi preview`) before anything is planned; the policy pack could not tell prod from staging but by a config.
 */
export function missingJwtClaimInProduction(
  stack: string,
  app: { jwtIssuer?: string; jwtAudience?: string },
): { name: "jwtIssuer" | "jwtAudience"; detail: string } | undefined {
  if (projectEnvironment(stack) !== "Production") return undefined;
  for (const [name, claim, env] of [
    ["jwtIssuer", "iss", "AUTH_JWT_ISSUER"],
    ["jwtAudience", "aud", "AUTH_JWT_AUDIENCE"],
  ] as const) {
    if (app[name] === undefined) {
      return {
        name,
        detail:
          `missing; expected on a production stack (${stack}): the ${claim} users' tokens must carry (the app's ${env}); ` +
          "without it a token minted for another service with the same key is accepted",
      };
    }
  }
  return undefined;
}
