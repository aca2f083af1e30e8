import type { ComputeMode } from "../config";

/**
 * Managed policies per role and compute mode. Auto Mode's cluster role runs compute, storage, load balancing and
 * networking for you, so it needs their policies; its node role needs only the minimal worker and ECR pull policies.
 * Source: EKS User Guide (auto-cluster-iam-role, auto-create-node-role, create-node-role).
 */
export function clusterRolePolicyNames(mode: ComputeMode): string[] {
  return mode === "auto"
    ? [
        "AmazonEKSClusterPolicy",
        "AmazonEKSComputePolicy",
        "AmazonEKSBlockStoragePolicy",
        "AmazonEKSLoadBalancingPolicy",
        "AmazonEKSNetworkingPolicy",
      ]
    : ["AmazonEKSClusterPolicy"];
}

export function nodeRolePolicyNames(mode: ComputeMode): string[] {
  return mode === "auto"
    ? ["AmazonEKSWorkerNodeMinimalPolicy", "AmazonEC2ContainerRegistryPullOnly"]
    : ["AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryPullOnly", "AmazonSSMManagedInstanceCore"];
}

export function managedPolicyArn(partition: string, policyName: string): string {
  return `arn:${partition}:iam::aws:policy/${policyName}`;
}

/** The five control-plane log types: all of them, because an incident needs the audit and authenticator trail. */
export const controlPlaneLogTypes = [
  "api",
  "audit",
  "authenticator",
  "controllerManager",
  "scheduler",
] as const;

/** Auto Mode's built-in pools: `system` for cluster-critical add-ons, `general-purpose` for workloads. */
export const autoModeNodePools = ["system", "general-purpose"] as const;

/**
 * Node pools whose nodes outlive a teardown drain: Auto Mode's built-in pools run Argo CD itself, and EKS
 * terminates their nodes with the cluster. Karpenter mode has none (its system nodes are a node group).
 */
export function retainedNodePools(mode: ComputeMode): readonly string[] {
  return mode === "auto" ? autoModeNodePools : [];
}

/** The control-plane log group EKS writes to; the platform creates it before the cluster. */
export function controlPlaneLogGroupName(clusterName: string): string {
  return `/aws/eks/${clusterName}/cluster`;
}

/** Trust policy for a role that an AWS service assumes; EKS services also tag the session. */
export function serviceTrustPolicy(service: string, tagSession: boolean): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Service: service },
        Action: tagSession ? ["sts:AssumeRole", "sts:TagSession"] : "sts:AssumeRole",
      },
    ],
  });
}

/** Bottlerocket AMI type for the system node group: Graviton families (m7g, c8g, t4g…) run arm64. */
export function bottlerocketAmiType(
  instanceTypes: readonly string[],
): "BOTTLEROCKET_ARM_64" | "BOTTLEROCKET_x86_64" {
  const isArm = (instanceType: string) => /^[a-z]+\d+[a-z]*g[a-z]*\./.test(instanceType);
  const arm = instanceTypes.filter(isArm);
  if (arm.length > 0 && arm.length < instanceTypes.length) {
    throw new Error(
      `compute.systemNodeGroup.instanceTypes mixes arm64 (${arm.join(", ")}) and x86_64 types; one node group runs one AMI, pick one architecture`,
    );
  }
  return arm.length > 0 ? "BOTTLEROCKET_ARM_64" : "BOTTLEROCKET_x86_64";
}
