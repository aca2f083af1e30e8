import type { PlatformConfig } from "../config";
import { everydayAddons } from "../config/addons";
import { fleetOf } from "../config/fleet";

/** Which add-ons run on this stack, after the compute-mode rules (config validation already rejects the impossible). */
export function enabledAddons(config: PlatformConfig): Record<string, boolean> {
  const karpenterMode = config.compute.mode === "karpenter";
  const everyday = everydayAddons(config);
  return {
    // Argo CD manages its own chart only when it is installed from the chart; AWS runs the capability. A fleet
    // spoke has no Argo CD of its own: its hub's Argo CD deploys to it.
    argocd: config.gitops.argocd.install === "helm" && fleetOf(config).role !== "spoke",
    cluster_base: true,
    karpenter: config.addons.karpenter,
    cilium: karpenterMode && config.addons.cilium,
    falco: config.addons.falco,
    kubecost: config.addons.kubecost,
    coredns_autoscaler: karpenterMode && config.addons.corednsAutoscaler,
    metrics_server: everyday.metricsServer,
    aws_load_balancer_controller: everyday.awsLoadBalancerController,
    external_dns: everyday.externalDns.enabled,
    external_secrets: everyday.externalSecrets.enabled,
  };
}
