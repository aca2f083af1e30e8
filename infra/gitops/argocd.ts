/**
 * Argo CD names the program, the add-on manifests and the teardown share. The manifests in addons/ name the
 * namespace too (their ApplicationSets, project and repository entries must live in Argo CD's namespace); a test
 * keeps them in step.
 */

/** Namespace of Argo CD and its Applications, for the chart and the EKS capability alike. */
export const argocdNamespace = "argocd";

/** Argo CD's cascading-delete finalizer: the Application's resources are deleted before the Application. */
export const cascadeFinalizer = "resources-finalizer.argocd.argoproj.io";

/**
 * ApplicationSets and their generated Applications that a teardown drain must leave alone: Argo CD has to outlive
 * the drain, and so does the CNI its pods need; the AWS Load Balancer Controller must keep running to delete the load
 * balancers of the Services and Ingresses being drained (their ApplicationSets preserve resources on deletion).
 */
export function applicationsKeptOnTeardown(clusterName: string): string[] {
  return ["argo-cd", "cilium", "aws-load-balancer-controller"].flatMap((addon) => [
    addon,
    `${addon}-${clusterName}`,
  ]);
}
