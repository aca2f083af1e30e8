import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { ComputeMode } from "../config";
import type { FargateProfileConfig } from "../config/fargate";
import { withName } from "../tags";
import {
  attachManagedPolicies,
  clusterRolePolicyNames,
  nodeRolePolicyNames,
} from "../identity/managed-policies";
import { serviceTrustPolicy } from "../identity/trust-policy";
import { autoModeNodePools, controlPlaneLogGroupName, controlPlaneLogTypes } from "./contract";
import { FargateProfiles } from "./fargate";
import { SystemNodes } from "./system-nodes";
import { platformRoleNames, roleTrustServices } from "../config/roles";

export interface ClusterArgs {
  readonly clusterName: string;
  readonly kubernetesVersion: string;
  readonly supportType: "STANDARD" | "EXTENDED";
  readonly computeMode: ComputeMode;
  readonly partition: pulumi.Input<string>;
  readonly subnetIds: pulumi.Input<string>[];
  readonly publicAccessCidrs: readonly string[];
  /** Network resources the cluster needs to keep until it is gone (NAT egress of the private subnets). */
  readonly networkReady: pulumi.Resource[];
  /** Private networks (VPN, peered networks) allowed to reach the private endpoint on 443; none by default. */
  readonly privateAccessCidrs: readonly string[];
  /** Security groups admitted to the private endpoint on 443, by group id: the environment's in-VPC runner. */
  readonly apiSourceSecurityGroups: readonly {
    readonly id: pulumi.Input<string>;
    readonly description: string;
  }[];
  readonly keyArn: pulumi.Input<string>;
  readonly logRetentionDays: number;
  readonly deletionProtection: boolean;
  /** karpenter mode: the system node group that runs Karpenter, CoreDNS and Argo CD. */
  readonly systemNodeGroup: { instanceTypes: string[]; minSize: number; maxSize: number };
  /** karpenter mode: Cilium replaces the VPC CNI and kube-proxy, so those add-ons are not installed. */
  readonly ciliumReplacesVpcCni: boolean;
  /** Namespaces routed to Fargate, in the cluster's (private) subnets; none by default. */
  readonly fargateProfiles: readonly FargateProfileConfig[];
  readonly region: string;
  readonly accountId: pulumi.Input<string>;
  readonly tags: Readonly<Record<string, string>>;
}

/**
 * The EKS control plane: its log group (created first, with retention, so EKS never creates an unmanaged one),
 * IAM roles, and the cluster itself — private endpoint, envelope encryption, all log types, access entries only,
 * creator admin off. In auto mode EKS Auto Mode runs the nodes; in karpenter mode a small system node group does.
 */
export class Cluster extends pulumi.ComponentResource {
  readonly cluster: aws.eks.Cluster;
  readonly nodeRole: aws.iam.Role;
  /** Node groups and EKS add-ons that must exist before workloads are scheduled. */
  readonly readiness: pulumi.Resource[];
  /** Present when the stack routes namespaces to Fargate. */
  readonly fargate?: FargateProfiles;

  constructor(name: string, args: ClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:index:Cluster", name, {}, opts);
    const parent = { parent: this };

    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-control-plane`,
      {
        name: controlPlaneLogGroupName(args.clusterName),
        retentionInDays: args.logRetentionDays,
        kmsKeyId: args.keyArn,
        tags: args.tags,
      },
      parent,
    );

    const clusterRole = new aws.iam.Role(
      `${name}-cluster`,
      {
        name: platformRoleNames.cluster(args.clusterName),
        assumeRolePolicy: serviceTrustPolicy(roleTrustServices.cluster, true),
        tags: args.tags,
      },
      parent,
    );
    const clusterRoleAttachments = attachManagedPolicies(
      this,
      `${name}-cluster`,
      clusterRole,
      clusterRolePolicyNames(args.computeMode),
      args.partition,
    );

    this.nodeRole = new aws.iam.Role(
      `${name}-node`,
      {
        name: platformRoleNames.node(args.clusterName),
        assumeRolePolicy: serviceTrustPolicy(roleTrustServices.node, false),
        tags: args.tags,
      },
      parent,
    );
    const nodeRoleAttachments = attachManagedPolicies(
      this,
      `${name}-node`,
      this.nodeRole,
      nodeRolePolicyNames(args.computeMode),
      args.partition,
    );

    const auto = args.computeMode === "auto";
    const publicEndpoint = args.publicAccessCidrs.length > 0;
    this.cluster = new aws.eks.Cluster(
      name,
      {
        name: args.clusterName,
        version: args.kubernetesVersion,
        roleArn: clusterRole.arn,
        vpcConfig: {
          subnetIds: args.subnetIds,
          endpointPrivateAccess: true,
          endpointPublicAccess: publicEndpoint,
          ...(publicEndpoint ? { publicAccessCidrs: [...args.publicAccessCidrs] } : {}),
        },
        accessConfig: { authenticationMode: "API", bootstrapClusterCreatorAdminPermissions: false },
        // Nothing preinstalled: Auto Mode brings its own networking and DNS; karpenter mode installs add-ons explicitly.
        bootstrapSelfManagedAddons: false,
        ...(auto
          ? {
              computeConfig: {
                enabled: true,
                nodePools: [...autoModeNodePools],
                nodeRoleArn: this.nodeRole.arn,
              },
              kubernetesNetworkConfig: { elasticLoadBalancing: { enabled: true } },
              storageConfig: { blockStorage: { enabled: true } },
            }
          : {}),
        encryptionConfig: { resources: ["secrets"], provider: { keyArn: args.keyArn } },
        enabledClusterLogTypes: [...controlPlaneLogTypes],
        upgradePolicy: { supportType: args.supportType },
        deletionProtection: args.deletionProtection,
        tags: withName(args.tags, args.clusterName),
      },
      {
        parent: this,
        dependsOn: [logGroup, ...clusterRoleAttachments, ...nodeRoleAttachments, ...args.networkReady],
        protect: args.deletionProtection,
      },
    );

    // The EKS-managed cluster security group only admits itself. The pipeline's runner is admitted by its security
    // group (not by address: the VPC is shared with other clusters and their runners); a VPN by explicit CIDR.
    args.apiSourceSecurityGroups.forEach(
      (source, index) =>
        new aws.vpc.SecurityGroupIngressRule(
          `${name}-api-sg-${index}`,
          {
            securityGroupId: this.cluster.vpcConfig.clusterSecurityGroupId,
            referencedSecurityGroupId: source.id,
            ipProtocol: "tcp",
            fromPort: 443,
            toPort: 443,
            description: `Kubernetes API from ${source.description}`,
            tags: args.tags,
          },
          parent,
        ),
    );
    args.privateAccessCidrs.forEach(
      (cidr, index) =>
        new aws.vpc.SecurityGroupIngressRule(
          `${name}-api-${index}`,
          {
            securityGroupId: this.cluster.vpcConfig.clusterSecurityGroupId,
            cidrIpv4: cidr,
            ipProtocol: "tcp",
            fromPort: 443,
            toPort: 443,
            description: `Kubernetes API from ${cidr}`,
            tags: args.tags,
          },
          parent,
        ),
    );

    if (args.fargateProfiles.length > 0) {
      this.fargate = new FargateProfiles(
        `${name}-fargate`,
        {
          clusterName: this.cluster.name,
          region: args.region,
          accountId: args.accountId,
          partition: args.partition,
          subnetIds: args.subnetIds,
          profiles: args.fargateProfiles,
          tags: args.tags,
        },
        parent,
      );
    }

    const nodes = auto
      ? []
      : new SystemNodes(
          `${name}-system`,
          {
            clusterName: this.cluster.name,
            kubernetesVersion: args.kubernetesVersion,
            nodeRoleArn: this.nodeRole.arn,
            subnetIds: args.subnetIds,
            partition: args.partition,
            instanceTypes: args.systemNodeGroup.instanceTypes,
            minSize: args.systemNodeGroup.minSize,
            maxSize: args.systemNodeGroup.maxSize,
            ciliumReplacesVpcCni: args.ciliumReplacesVpcCni,
            tags: args.tags,
          },
          { parent: this, dependsOn: nodeRoleAttachments },
        ).readiness;
    this.readiness = [...nodes, ...(this.fargate?.profiles ?? [])];

    this.registerOutputs({ clusterName: this.cluster.name, endpoint: this.cluster.endpoint });
  }
}
