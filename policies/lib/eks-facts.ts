/**
 * EKS facts the pack judges against. The pack is published and run on other programs too, so it keeps its own
 * copy instead of importing the program's; test/policies/self-contained.test.ts asserts the copies agree with
 * infra/config/kubernetes-versions.ts and infra/cluster/contract.ts.
 */

/** Kubernetes minor versions EKS offers (standard or extended support), oldest first. */
export const eksKubernetesVersions = ["1.33", "1.34", "1.35", "1.36"] as const;

export const newestEksKubernetesVersion = eksKubernetesVersions[eksKubernetesVersions.length - 1];

/** The five control-plane log types EKS can send to CloudWatch. */
export const controlPlaneLogTypes = [
  "api",
  "audit",
  "authenticator",
  "controllerManager",
  "scheduler",
] as const;

/** Minor number of a "1.NN" version string; undefined for anything else. */
export function minorOf(version: string): number | undefined {
  const match = /^1\.(\d+)$/.exec(version);
  return match ? Number(match[1]) : undefined;
}
