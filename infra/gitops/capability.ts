import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { PlatformConfig } from "../config";
import { argoCdCapabilityRoleName } from "../config/gitops";
import type { ClusterFacts } from "../facts";
import { associateClusterPolicy } from "../identity";
import { serviceTrustPolicy } from "../identity/trust-policy";
import { withName } from "../tags";
import { argocdNamespace } from "./argocd";

/**
 * capability mode: Argo CD run by AWS (the EKS Argo CD capability), its IAM role, the Kubernetes permissions that
 * role needs on this cluster, and (unless a dev stack opts out) the VPC endpoint that keeps its UI/API private.
 * Returns what must exist before Argo CD can act on the cluster.
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
      name: argoCdCapabilityRoleName(config.cluster.name),
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
  // Without networkAccess the managed endpoint answers on the internet (Identity Center sign-in only).
  const endpoint =
    config.gitops.argocd.publicEndpoint === undefined
      ? argoCdPrivateEndpoint(parent, name, facts)
      : undefined;
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
          ...(endpoint ? { networkAccess: { vpceIds: [endpoint.id] } } : {}),
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

/**
 * An interface endpoint for `com.amazonaws.<region>.eks-capabilities` in the private subnets. Once its id is in the
 * capability's `networkAccess.vpceIds`, EKS blocks public access and points the Argo CD hostname at the endpoint's
 * private addresses (public DNS, so no private DNS zone is needed here). AWS does not support endpoint policies
 * for this service, so none is set. Its own security group admits HTTPS from the VPC and the configured private
 * networks (VPN, peered runner VPCs): the same networks that may reach the cluster's private API.
 */
function argoCdPrivateEndpoint(
  parent: pulumi.Resource,
  name: string,
  facts: ClusterFacts,
): aws.ec2.VpcEndpoint {
  const config = facts.config;
  const securityGroup = new aws.ec2.SecurityGroup(
    `${name}-argocd-endpoint`,
    {
      vpcId: facts.vpcId,
      description: "Argo CD capability endpoint: HTTPS from the VPC and the configured private networks",
      tags: withName(config.tags, `${config.cluster.name}-argocd-endpoint`),
    },
    { parent },
  );
  for (const cidr of argoCdEndpointClientCidrs(config)) {
    new aws.vpc.SecurityGroupIngressRule(
      `${name}-argocd-endpoint-${cidr.replace(/[./]/g, "-")}`,
      {
        securityGroupId: securityGroup.id,
        cidrIpv4: cidr,
        ipProtocol: "tcp",
        fromPort: 443,
        toPort: 443,
        description: `Argo CD UI/API from ${cidr}`,
        tags: config.tags,
      },
      { parent },
    );
  }
  return new aws.ec2.VpcEndpoint(
    `${name}-argocd`,
    {
      vpcId: facts.vpcId,
      serviceName: `com.amazonaws.${config.region}.eks-capabilities`,
      vpcEndpointType: "Interface",
      subnetIds: facts.privateSubnetIds,
      securityGroupIds: [securityGroup.id],
      tags: withName(config.tags, `${config.cluster.name}-argocd`),
    },
    { parent },
  );
}

/** Who may open the Argo CD UI/API through the endpoint: the VPC and the configured private networks, once each. */
export function argoCdEndpointClientCidrs(config: PlatformConfig): string[] {
  return [...new Set([config.network.vpcCidr, ...config.cluster.privateAccessCidrs])];
}
