import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { attachManagedPolicies } from "./managed-policies";
import { serviceTrustPolicy } from "./trust-policy";
import { roleTrustServices } from "../config/roles";

export interface PodIdentityRoleArgs {
  readonly roleName: pulumi.Input<string>;
  readonly partition: pulumi.Input<string>;
  /** AWS managed policy names (e.g. AmazonEBSCSIDriverPolicy). */
  readonly managedPolicies?: readonly string[];
  /** An inline policy document (JSON) when no managed policy fits. */
  readonly inlinePolicy?: pulumi.Input<string>;
  /** When set, binds the role to this service account with an EKS Pod Identity association. */
  readonly association?: {
    readonly clusterName: pulumi.Input<string>;
    readonly namespace: string;
    readonly serviceAccount: string;
  };
  readonly tags: Readonly<Record<string, string>>;
}

/**
 * An IAM role for pods through EKS Pod Identity (trust `pods.eks.amazonaws.com`, AssumeRole + TagSession): no OIDC
 * provider, no IRSA annotations, and the same trust policy works for every cluster.
 */
export class PodIdentityRole extends pulumi.ComponentResource {
  readonly role: aws.iam.Role;
  readonly roleArn: pulumi.Output<string>;

  constructor(name: string, args: PodIdentityRoleArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:index:PodIdentityRole", name, {}, opts);
    const parent = { parent: this };
    this.role = new aws.iam.Role(
      name,
      {
        name: args.roleName,
        assumeRolePolicy: serviceTrustPolicy(roleTrustServices.podIdentity, true),
        tags: args.tags,
      },
      parent,
    );
    this.roleArn = this.role.arn;
    attachManagedPolicies(this, name, this.role, args.managedPolicies ?? [], args.partition);
    if (args.inlinePolicy !== undefined) {
      new aws.iam.RolePolicy(name, { role: this.role.id, policy: args.inlinePolicy }, parent);
    }
    if (args.association) {
      new aws.eks.PodIdentityAssociation(
        name,
        {
          clusterName: args.association.clusterName,
          namespace: args.association.namespace,
          serviceAccount: args.association.serviceAccount,
          roleArn: this.role.arn,
          tags: args.tags,
        },
        parent,
      );
    }
    this.registerOutputs({ roleArn: this.roleArn });
  }
}
