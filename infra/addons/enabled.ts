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

/** Which AWS-side pieces a stack needs; a pure function of the config so the mode rules are testable alone. */
export function addonAwsPlan(config: PlatformConfig) {
  const karpenterMode = config.compute.mode === "karpenter";
  const enabled = enabledAddons(config);
  return {
    /** A dedicated node role for the platform NodeClass/EC2NodeClass, with its EC2 access entry. */
    karpenterNodeRole: enabled.karpenter,
    /** Auto Mode nodes join through an EC2 entry + AmazonEKSAutoNodePolicy; self-managed ones through EC2_LINUX. */
    nodeAccessEntryType: karpenterMode ? "EC2_LINUX" : "EC2",
    /** Controller, interruption queue and EventBridge rules: self-managed Karpenter only (Auto Mode runs its own). */
    karpenterController: karpenterMode && enabled.karpenter,
    ciliumOperator: enabled.cilium,
  } as const;
}
