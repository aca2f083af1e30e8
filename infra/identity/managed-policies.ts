import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
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

/**
 * Attaches AWS managed policies to a role, one `<prefix>-<PolicyName>` attachment each, as children of `parent`,
 * so a role's permissions read as a list of names in the resource tree.
 */
export function attachManagedPolicies(
  parent: pulumi.Resource,
  prefix: string,
  role: aws.iam.Role,
  policyNames: readonly string[],
  partition: pulumi.Input<string>,
): aws.iam.RolePolicyAttachment[] {
  return policyNames.map(
    (policyName) =>
      new aws.iam.RolePolicyAttachment(
        `${prefix}-${policyName}`,
        {
          role: role.name,
          policyArn: pulumi.output(partition).apply((value) => managedPolicyArn(value, policyName)),
        },
        { parent },
      ),
  );
}
