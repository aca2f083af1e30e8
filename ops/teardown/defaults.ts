import { argocdNamespace } from "../../infra/gitops/argocd";

/**
 * Drain defaults, in a module of their own so the Pulumi program can read them without loading the AWS SDK
 * clients that the drain itself uses.
 */
export const defaultDrainOptions = {
  argocdNamespace,
  keep: [] as string[],
  timeoutMs: 20 * 60_000,
  pollMs: 15_000,
  attempts: 5,
};
