/** The problems loadServiceConfig reports for an environment: `valid` with `env` laid over it. */
import { ServiceConfigError, loadServiceConfig } from "../../app/src/config";

export function configProblems(valid: Record<string, string>): (env: Record<string, string | undefined>) => string[] {
  return (env) => {
    try {
      loadServiceConfig({ ...valid, ...env });
    } catch (error) {
      if (error instanceof ServiceConfigError) return error.problems;
      throw error;
    }
    throw new Error("expected a ServiceConfigError");
  };
}
