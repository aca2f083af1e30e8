import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { AccessConfig, accessGrants, accessPolicyArn, AccessPolicyName } from "./access";

export interface ClusterAccessArgs {
  readonly clusterName: pulumi.Input<string>;
  readonly partition: pulumi.Input<string>;
  readonly access: AccessConfig;
  readonly tags: Readonly<Record<string, string>>;
}

/**
 * EKS access entries with a cluster-scoped access policy for each principal in config. This replaces the aws-auth
 * ConfigMap and the creator-admin grant: who can reach the API is visible in code and reviewable in a preview.
 */
export class ClusterAccess extends pulumi.ComponentResource {
  readonly associations: aws.eks.AccessPolicyAssociation[];

  constructor(name: string, args: ClusterAccessArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:index:ClusterAccess", name, {}, opts);
    this.associations = accessGrants(args.access).map((grant) => {
      const entry = new aws.eks.AccessEntry(
        `${name}-${grant.logicalName}`,
        {
          clusterName: args.clusterName,
          principalArn: grant.principalArn,
          type: "STANDARD",
          tags: args.tags,
        },
        { parent: this },
      );
      return associateClusterPolicy(this, `${name}-${grant.logicalName}`, {
        clusterName: args.clusterName,
        principalArn: entry.principalArn,
        partition: args.partition,
        policy: grant.accessPolicy,
      });
    });
    this.registerOutputs({});
  }
}

/** Grants an access-entry principal an EKS access policy across the whole cluster. */
export function associateClusterPolicy(
  parent: pulumi.Resource,
  name: string,
  args: {
    readonly clusterName: pulumi.Input<string>;
    readonly principalArn: pulumi.Input<string>;
    readonly partition: pulumi.Input<string>;
    readonly policy: AccessPolicyName;
  },
  dependsOn: pulumi.Resource[] = [],
): aws.eks.AccessPolicyAssociation {
  return new aws.eks.AccessPolicyAssociation(
    name,
    {
      clusterName: args.clusterName,
      principalArn: args.principalArn,
      policyArn: pulumi.output(args.partition).apply((partition) => accessPolicyArn(partition, args.policy)),
      accessScope: { type: "cluster" },
    },
    { parent, dependsOn },
  );
}
