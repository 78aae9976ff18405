/** User tokens for the benchmark's clients: the harness's signer, with the secret the benchmark hands its workers (2 h). */
import { signUserToken } from "../harness/tokens";
import { WORKER_JWT_SECRET_ENV } from "./worker-protocol";

const secret = process.env[WORKER_JWT_SECRET_ENV] ?? "";

export function jwtFor(user: string, name = user): Promise<string> {
  return signUserToken(secret, user, { name, expiresInSeconds: 2 * 60 * 60 });
}
