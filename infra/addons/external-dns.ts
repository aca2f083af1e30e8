/**
 * ExternalDNS's IAM policy: upstream's least-privilege policy (docs/tutorials/aws.md at the pinned chart) with the
 * record actions narrowed from `hostedzone/*` to exactly the configured zones. Listing zones cannot be scoped to a
 * resource in IAM, so ListHostedZones stays on "*" as upstream has it (it reveals zone names, not records).
 */
export function externalDnsPolicy(partition: string, hostedZoneIds: readonly string[]): string {
  if (hostedZoneIds.length === 0) throw new Error("ExternalDNS needs at least one hosted zone id");
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "ChangeRecordsInConfiguredZones",
        Effect: "Allow",
        Action: [
          "route53:ChangeResourceRecordSets",
          "route53:ListResourceRecordSets",
          "route53:ListTagsForResources",
        ],
        Resource: hostedZoneIds.map((id) => `arn:${partition}:route53:::hostedzone/${id}`),
      },
      { Sid: "ListZones", Effect: "Allow", Action: ["route53:ListHostedZones"], Resource: ["*"] },
    ],
  });
}
