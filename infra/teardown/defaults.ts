import { argocdNamespace } from "../gitops/argocd";

/**
 * Drain defaults: the program hands them to the drain command it declares (./component.ts), and the drain in
 * ops/teardown uses the same ones when run by hand. Here, with the program, so the program never imports ops/ and
 * never loads the AWS SDK clients the drain itself uses.
 */
export const defaultDrainOptions = {
  argocdNamespace,
  keep: [] as string[],
  timeoutMs: 20 * 60_000,
  pollMs: 15_000,
  attempts: 5,
};
