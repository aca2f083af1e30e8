import type { PlatformConfig } from "../../infra/config";
import { everydayAddons } from "../../infra/config/addons";
import { platformRoleNames, roleTrustServices } from "../../infra/config/roles";
import { addonAwsPlan } from "../../infra/addons/enabled";

export interface PlatformRole {
  readonly name: string;
  /** The one service principal its trust policy names. */
  readonly trustedService: string;
}

/**
 * The cluster-scoped IAM roles a stack's program creates, with the service each trusts: the same conditions as
 * infra/cluster (system nodes and Fargate), infra/addons (addonAwsPlan, everyday add-ons). Checked against the
 * synthesized stacks in test/ops/verify.test.ts.
 */
export function platformRoles(config: PlatformConfig): PlatformRole[] {
  const name = config.cluster.name;
  const karpenterMode = config.compute.mode === "karpenter";
  const plan = addonAwsPlan(config);
  const everyday = everydayAddons(config);
  const role = (key: keyof typeof platformRoleNames, service: keyof typeof roleTrustServices) => ({
    name: platformRoleNames[key](name),
    trustedService: roleTrustServices[service],
  });
  return [
    role("cluster", "cluster"),
    role("node", "node"),
    ...(plan.karpenterNodeRole ? [role("karpenterNode", "node")] : []),
    ...(plan.karpenterController ? [role("karpenterController", "podIdentity")] : []),
    ...(plan.ciliumOperator ? [role("ciliumOperator", "podIdentity")] : []),
    // The system node group's add-ons (karpenter mode); Cilium replaces the VPC CNI when it is on.
    ...(karpenterMode ? [role("ebsCsi", "podIdentity")] : []),
    ...(karpenterMode && !config.addons.cilium ? [role("vpcCni", "podIdentity")] : []),
    ...(config.compute.fargateProfiles.length > 0 ? [role("fargatePods", "fargatePods")] : []),
    ...(everyday.awsLoadBalancerController ? [role("awsLoadBalancerController", "podIdentity")] : []),
    ...(everyday.externalDns.enabled ? [role("externalDns", "podIdentity")] : []),
    ...(everyday.externalSecrets.enabled ? [role("externalSecrets", "podIdentity")] : []),
  ];
}
