/**
 * External Secrets Operator's IAM policy: the read actions upstream documents for a Pod Identity role
 * (docs/provider/aws-access.md at the pinned chart), on the secrets whose names start with the configured prefix
 * instead of "*". Secrets Manager appends "-" and six random characters to a secret's ARN, hence the trailing "*".
 * Not granted: ListSecrets and BatchGetSecretValue (they cannot be scoped to a prefix), so `dataFrom.find` is
 * unavailable; name each secret with `remoteRef.key`.
 */
export interface ExternalSecretsPolicyArgs {
  readonly partition: string;
  readonly region: string;
  readonly accountId: string;
  readonly namePrefix: string;
}

export function externalSecretsPolicy(args: ExternalSecretsPolicyArgs): string {
  if (args.namePrefix.length === 0 || /[*?]/.test(args.namePrefix))
    throw new Error(
      `External Secrets name prefix ${JSON.stringify(args.namePrefix)} must be literal and non-empty`,
    );
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "ReadSecretsUnderPrefix",
        Effect: "Allow",
        Action: [
          "secretsmanager:GetResourcePolicy",
          "secretsmanager:GetSecretValue",
          "secretsmanager:DescribeSecret",
          "secretsmanager:ListSecretVersionIds",
        ],
        Resource: `arn:${args.partition}:secretsmanager:${args.region}:${args.accountId}:secret:${args.namePrefix}*`,
      },
    ],
  });
}
