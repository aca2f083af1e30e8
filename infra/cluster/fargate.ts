import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { FargateProfileConfig } from "../config/fargate";
import { attachManagedPolicies } from "../identity/managed-policies";
import { withName } from "../tags";
import { platformRoleNames, roleTrustServices } from "../config/roles";

export interface FargateProfilesArgs {
  readonly clusterName: pulumi.Input<string>;
  readonly region: string;
  readonly accountId: pulumi.Input<string>;
  readonly partition: pulumi.Input<string>;
  /**
   * The cluster's private subnets: Fargate gives pods no public IP and refuses subnets routed to an internet gateway.
   * Fargate needs no `kubernetes.io/cluster/<name>` tag (EKS User Guide, network-reqs: only clusters from 1.18 and
   * older got it), whatever the @pulumi/aws doc comment says; ClusterSubnets sets it for load balancer placement.
   */
  readonly subnetIds: pulumi.Input<string>[];
  readonly profiles: readonly FargateProfileConfig[];
  readonly tags: Readonly<Record<string, string>>;
}

export const fargatePodExecutionPolicyNames = ["AmazonEKSFargatePodExecutionRolePolicy"] as const;

/**
 * Trust for the pod execution role: only Fargate, and only for this cluster's profiles (`aws:SourceArn`, as the EKS
 * User Guide's pod-execution-role page prescribes against the confused-deputy problem). No sts:TagSession: the
 * guide's policy grants sts:AssumeRole alone.
 */
export function fargatePodExecutionTrustPolicy(
  partition: string,
  region: string,
  accountId: string,
  clusterName: string,
): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Service: roleTrustServices.fargatePods },
        Action: "sts:AssumeRole",
        Condition: {
          ArnLike: {
            "aws:SourceArn": `arn:${partition}:eks:${region}:${accountId}:fargateprofile/${clusterName}/*`,
          },
        },
      },
    ],
  });
}

/**
 * The stack's Fargate profiles and the pod execution role they share (the kubelet on Fargate registers with it and
 * pulls images; pods never get its permissions). Profiles are created one after another: EKS refuses a new profile
 * while another one in the cluster is CREATING or DELETING.
 */
export class FargateProfiles extends pulumi.ComponentResource {
  readonly podExecutionRole: aws.iam.Role;
  readonly profiles: aws.eks.FargateProfile[];

  constructor(name: string, args: FargateProfilesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:index:FargateProfiles", name, {}, opts);
    this.podExecutionRole = new aws.iam.Role(
      `${name}-pods`,
      {
        name: pulumi.output(args.clusterName).apply(platformRoleNames.fargatePods),
        assumeRolePolicy: pulumi
          .all([args.partition, args.accountId, args.clusterName])
          .apply(([partition, accountId, clusterName]) =>
            fargatePodExecutionTrustPolicy(partition, args.region, accountId, clusterName),
          ),
        tags: args.tags,
      },
      { parent: this },
    );
    const attachments = attachManagedPolicies(
      this,
      `${name}-pods`,
      this.podExecutionRole,
      fargatePodExecutionPolicyNames,
      args.partition,
    );

    this.profiles = [];
    let previous: pulumi.Resource[] = attachments;
    for (const profile of args.profiles) {
      const created: aws.eks.FargateProfile = new aws.eks.FargateProfile(
        `${name}-${profile.name}`,
        {
          clusterName: args.clusterName,
          fargateProfileName: profile.name,
          podExecutionRoleArn: this.podExecutionRole.arn,
          subnetIds: args.subnetIds,
          selectors: profile.selectors.map((selector) => ({
            namespace: selector.namespace,
            ...(selector.labels ? { labels: { ...selector.labels } } : {}),
          })),
          tags: withName(args.tags, profile.name),
        },
        // Profiles are immutable and their names fixed by config: a change replaces the profile, which must be
        // deleted before its namesake is created.
        { parent: this, dependsOn: previous, deleteBeforeReplace: true },
      );
      this.profiles.push(created);
      previous = [created];
    }
    this.registerOutputs({ podExecutionRoleArn: this.podExecutionRole.arn });
  }
}
