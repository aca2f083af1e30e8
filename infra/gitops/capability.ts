import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { ClusterFacts } from "../facts";
import { associateClusterPolicy } from "../identity";
import { serviceTrustPolicy } from "../identity/trust-policy";
import { argocdNamespace } from "./argocd";

/**
 * capability mode: Argo CD run by AWS (the EKS Argo CD capability), its IAM role, and the Kubernetes permissions
 * that role needs on this cluster. Returns what must exist before Argo CD can act on the cluster.
 */
export function argoCdCapability(
  parent: pulumi.Resource,
  name: string,
  facts: ClusterFacts,
  dependsOn: pulumi.Resource[],
): { capability: aws.eks.Capability; ready: pulumi.Resource[]; roleArn: pulumi.Output<string> } {
  const config = facts.config;
  const identityCenter = config.gitops.argocd.identityCenter;
  if (identityCenter === undefined)
    throw new Error("gitops.argocd.identityCenter is required for install: capability");
  const role = new aws.iam.Role(
    `${name}-argocd-capability`,
    {
      name: `${config.cluster.name}-argocd-capability`,
      assumeRolePolicy: serviceTrustPolicy("capabilities.eks.amazonaws.com", true),
      tags: config.tags,
    },
    { parent },
  );
  const mappings = [
    { role: "ADMIN", ids: identityCenter.adminGroupIds },
    { role: "VIEWER", ids: identityCenter.viewerGroupIds },
  ]
    .filter((mapping) => mapping.ids.length > 0)
    .map((mapping) => ({
      role: mapping.role,
      identities: mapping.ids.map((id) => ({ id, type: "SSO_GROUP" })),
    }));
  const capability = new aws.eks.Capability(
    `${name}-argocd`,
    {
      clusterName: facts.clusterName,
      capabilityName: "argocd",
      type: "ARGOCD",
      roleArn: role.arn,
      // Keep the Argo CD objects if the capability is deleted; teardown goes through the root Application.
      deletePropagationPolicy: "RETAIN",
      configuration: {
        argoCd: {
          awsIdc: { idcInstanceArn: identityCenter.instanceArn, idcRegion: identityCenter.region },
          namespace: argocdNamespace,
          ...(mappings.length > 0 ? { rbacRoleMappings: mappings } : {}),
        },
      },
      tags: config.tags,
    },
    { parent, dependsOn },
  );
  // EKS gives the capability role an access entry but no Kubernetes permissions: without this every sync of the
  // local cluster is Forbidden.
  const access = associateClusterPolicy(
    parent,
    `${name}-argocd-capability`,
    {
      clusterName: facts.clusterName,
      principalArn: role.arn,
      partition: facts.partition,
      policy: "AmazonEKSClusterAdminPolicy",
    },
    [capability],
  );
  return { capability, ready: [capability, access], roleArn: role.arn };
}
