import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface PlatformKeyArgs {
  readonly clusterName: string;
  readonly region: string;
  readonly accountId: pulumi.Input<string>;
  readonly partition: pulumi.Input<string>;
  readonly deletionWindowInDays: number;
  readonly tags: Readonly<Record<string, string>>;
}

/**
 * Customer-managed KMS key for envelope encryption of Kubernetes secrets and for the cluster's log groups.
 * Rotation is on; CloudWatch Logs may use it only for this account's log groups.
 */
export class PlatformKey extends pulumi.ComponentResource {
  readonly keyArn: pulumi.Output<string>;

  constructor(name: string, args: PlatformKeyArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:index:PlatformKey", name, {}, opts);
    const key = new aws.kms.Key(
      name,
      {
        description: `EKS secrets and log encryption for ${args.clusterName}`,
        enableKeyRotation: true,
        deletionWindowInDays: args.deletionWindowInDays,
        policy: pulumi
          .all([args.partition, args.accountId])
          .apply(([partition, accountId]) => keyPolicy(partition, accountId, args.region)),
        tags: args.tags,
      },
      { parent: this },
    );
    new aws.kms.Alias(name, { name: `alias/${args.clusterName}`, targetKeyId: key.keyId }, { parent: this });
    this.keyArn = key.arn;
    this.registerOutputs({ keyArn: this.keyArn });
  }
}

/** The account keeps full control (so the key can never be orphaned); CloudWatch Logs gets use of it for log groups. */
export function keyPolicy(partition: string, accountId: string, region: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "AccountAdministers",
        Effect: "Allow",
        Principal: { AWS: `arn:${partition}:iam::${accountId}:root` },
        Action: "kms:*",
        Resource: "*",
      },
      {
        Sid: "CloudWatchLogsEncrypt",
        Effect: "Allow",
        Principal: { Service: `logs.${region}.amazonaws.com` },
        Action: ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
        Resource: "*",
        Condition: {
          ArnLike: {
            "kms:EncryptionContext:aws:logs:arn": `arn:${partition}:logs:${region}:${accountId}:log-group:*`,
          },
        },
      },
    ],
  });
}
