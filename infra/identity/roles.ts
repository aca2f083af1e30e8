import type { PlatformConfig } from "../config";
import { everydayAddons } from "../config/addons";
import { addonAwsPlan } from "../addons/enabled";

/** Names of the IAM roles the program creates per cluster; the live check (ops/verify) reads the same names. */
export const platformRoleNames = {
  cluster: (clusterName: string) => `${clusterName}-cluster`,
  node: (clusterName: string) => `${clusterName}-node`,
  karpenterNode: (clusterName: string) => `${clusterName}-karpenter-node`,
  karpenterController: (clusterName: string) => `${clusterName}-karpenter-controller`,
  ciliumOperator: (clusterName: string) => `${clusterName}-cilium-operator`,
  ebsCsi: (clusterName: string) => `${clusterName}-ebs-csi`,
  vpcCni: (clusterName: string) => `${clusterName}-vpc-cni`,
  fargatePods: (clusterName: string) => `${clusterName}-fargate-pods`,
  awsLoadBalancerController: (clusterName: string) => `${clusterName}-aws-load-balancer-controller`,
  externalDns: (clusterName: string) => `${clusterName}-external-dns`,
  externalSecrets: (clusterName: string) => `${clusterName}-external-secrets`,
} as const;

/** The service principals those roles trust (infra/identity/trust-policy.ts, infra/cluster/fargate.ts). */
export const roleTrustServices = {
  cluster: "eks.amazonaws.com",
  node: "ec2.amazonaws.com",
  podIdentity: "pods.eks.amazonaws.com",
  fargatePods: "eks-fargate-pods.amazonaws.com",
} as const;

export interface PlatformRole {
  readonly name: string;
  /** The one service principal its trust policy names. */
  readonly trustedService: string;
}

/**
 * The cluster-scoped IAM roles a stack's program creates, with the service each trusts: the same conditions as
 * infra/cluster (system nodes and Fargate), infra/addons (addonAwsPlan, everyday add-ons).
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
