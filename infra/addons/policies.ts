/**
 * IAM documents for the add-ons' AWS side. Pure functions of plain strings so they are tested without Pulumi.
 */

interface Statement {
  Sid: string;
  Effect: "Allow" | "Deny";
  Action: string | string[];
  Resource: string | string[];
  Principal?: Record<string, string | string[]>;
  Condition?: Record<string, Record<string, string | string[] | boolean>>;
}

const document = (statements: Statement[]) =>
  JSON.stringify({ Version: "2012-10-17", Statement: statements });

export interface KarpenterPolicyArgs {
  readonly partition: string;
  readonly region: string;
  readonly accountId: string;
  readonly clusterName: string;
  readonly clusterArn: string;
  readonly nodeRoleArn: string;
  readonly interruptionQueueArn: string;
}

/**
 * Karpenter 1.x controller permissions, condensed from the upstream CloudFormation policy: launches and terminates
 * only instances tagged for this cluster, passes only its own node role, reads pricing and SSM AMI parameters,
 * and consumes only its own interruption queue.
 */
export function karpenterControllerPolicy(args: KarpenterPolicyArgs): string {
  const { partition, region, accountId, clusterName } = args;
  const ec2 = (type: string) => `arn:${partition}:ec2:${region}:*:${type}/*`;
  const ownedTag = `aws:RequestTag/kubernetes.io/cluster/${clusterName}`;
  const ownedResource = `aws:ResourceTag/kubernetes.io/cluster/${clusterName}`;
  return document([
    {
      Sid: "AllowScopedEC2InstanceAccessActions",
      Effect: "Allow",
      Action: ["ec2:RunInstances", "ec2:CreateFleet"],
      Resource: [
        `arn:${partition}:ec2:${region}::image/*`,
        `arn:${partition}:ec2:${region}::snapshot/*`,
        ec2("security-group"),
        ec2("subnet"),
        ec2("capacity-reservation"),
        ec2("placement-group"),
      ],
    },
    {
      Sid: "AllowScopedEC2LaunchTemplateAccessActions",
      Effect: "Allow",
      Action: ["ec2:RunInstances", "ec2:CreateFleet"],
      Resource: ec2("launch-template"),
      Condition: {
        StringEquals: { [ownedResource]: "owned" },
        StringLike: { "aws:ResourceTag/karpenter.sh/nodepool": "*" },
      },
    },
    {
      Sid: "AllowScopedEC2InstanceActionsWithTags",
      Effect: "Allow",
      Action: ["ec2:RunInstances", "ec2:CreateFleet", "ec2:CreateLaunchTemplate"],
      Resource: [
        ec2("fleet"),
        ec2("instance"),
        ec2("volume"),
        ec2("network-interface"),
        ec2("launch-template"),
        ec2("spot-instances-request"),
      ],
      Condition: {
        StringEquals: { [ownedTag]: "owned" },
        StringLike: { "aws:RequestTag/karpenter.sh/nodepool": "*" },
      },
    },
    {
      Sid: "AllowScopedResourceCreationTagging",
      Effect: "Allow",
      Action: "ec2:CreateTags",
      Resource: [
        ec2("fleet"),
        ec2("instance"),
        ec2("volume"),
        ec2("network-interface"),
        ec2("launch-template"),
        ec2("spot-instances-request"),
      ],
      Condition: {
        StringEquals: {
          [ownedTag]: "owned",
          "ec2:CreateAction": ["RunInstances", "CreateFleet", "CreateLaunchTemplate"],
        },
        StringLike: { "aws:RequestTag/karpenter.sh/nodepool": "*" },
      },
    },
    {
      Sid: "AllowScopedResourceTagging",
      Effect: "Allow",
      Action: "ec2:CreateTags",
      Resource: ec2("instance"),
      Condition: {
        StringEquals: { [ownedResource]: "owned" },
        StringLike: { "aws:ResourceTag/karpenter.sh/nodepool": "*" },
      },
    },
    {
      Sid: "AllowScopedDeletion",
      Effect: "Allow",
      Action: ["ec2:TerminateInstances", "ec2:DeleteLaunchTemplate"],
      Resource: [ec2("instance"), ec2("launch-template")],
      Condition: {
        StringEquals: { [ownedResource]: "owned" },
        StringLike: { "aws:ResourceTag/karpenter.sh/nodepool": "*" },
      },
    },
    {
      Sid: "AllowRegionalReadActions",
      Effect: "Allow",
      Action: [
        "ec2:DescribeAvailabilityZones",
        "ec2:DescribeCapacityReservations",
        "ec2:DescribeImages",
        "ec2:DescribeInstances",
        "ec2:DescribeInstanceTypeOfferings",
        "ec2:DescribeInstanceTypes",
        "ec2:DescribeLaunchTemplates",
        "ec2:DescribePlacementGroups",
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeSpotPriceHistory",
        "ec2:DescribeSubnets",
      ],
      Resource: "*",
      Condition: { StringEquals: { "aws:RequestedRegion": region } },
    },
    {
      Sid: "AllowSSMReadActions",
      Effect: "Allow",
      Action: "ssm:GetParameter",
      Resource: `arn:${partition}:ssm:${region}::parameter/aws/service/*`,
    },
    { Sid: "AllowPricingReadActions", Effect: "Allow", Action: "pricing:GetProducts", Resource: "*" },
    {
      Sid: "AllowInterruptionQueueActions",
      Effect: "Allow",
      Action: ["sqs:DeleteMessage", "sqs:GetQueueUrl", "sqs:ReceiveMessage"],
      Resource: args.interruptionQueueArn,
    },
    {
      Sid: "AllowPassingInstanceRole",
      Effect: "Allow",
      Action: "iam:PassRole",
      Resource: args.nodeRoleArn,
      Condition: { StringEquals: { "iam:PassedToService": ["ec2.amazonaws.com"] } },
    },
    {
      Sid: "AllowScopedInstanceProfileActions",
      Effect: "Allow",
      Action: [
        "iam:CreateInstanceProfile",
        "iam:TagInstanceProfile",
        "iam:AddRoleToInstanceProfile",
        "iam:RemoveRoleFromInstanceProfile",
        "iam:DeleteInstanceProfile",
      ],
      Resource: `arn:${partition}:iam::${accountId}:instance-profile/*`,
      Condition: {
        StringEquals: { [ownedResource]: "owned", "aws:ResourceTag/topology.kubernetes.io/region": region },
        StringLike: { "aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass": "*" },
      },
    },
    {
      Sid: "AllowScopedInstanceProfileCreation",
      Effect: "Allow",
      Action: ["iam:CreateInstanceProfile", "iam:TagInstanceProfile"],
      Resource: `arn:${partition}:iam::${accountId}:instance-profile/*`,
      Condition: {
        StringEquals: { [ownedTag]: "owned", "aws:RequestTag/topology.kubernetes.io/region": region },
        StringLike: { "aws:RequestTag/karpenter.k8s.aws/ec2nodeclass": "*" },
      },
    },
    {
      Sid: "AllowInstanceProfileReadActions",
      Effect: "Allow",
      Action: ["iam:GetInstanceProfile", "iam:ListInstanceProfiles"],
      Resource: "*",
    },
    {
      Sid: "AllowAPIServerEndpointDiscovery",
      Effect: "Allow",
      Action: "eks:DescribeCluster",
      Resource: args.clusterArn,
    },
  ]);
}

/** Cilium operator in ENI mode: it allocates ENIs and (prefix-delegated) addresses for pods on the nodes. */
export function ciliumOperatorPolicy(region: string): string {
  return document([
    {
      Sid: "CiliumEniIpam",
      Effect: "Allow",
      Action: [
        "ec2:AssignPrivateIpAddresses",
        "ec2:AttachNetworkInterface",
        "ec2:CreateNetworkInterface",
        "ec2:CreateTags",
        "ec2:DeleteNetworkInterface",
        "ec2:DescribeInstances",
        "ec2:DescribeInstanceTypes",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeRouteTables",
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeSubnets",
        "ec2:DescribeVpcs",
        "ec2:DetachNetworkInterface",
        "ec2:ModifyNetworkInterfaceAttribute",
        "ec2:UnassignPrivateIpAddresses",
      ],
      Resource: "*",
      Condition: { StringEquals: { "aws:RequestedRegion": region } },
    },
  ]);
}

/** Lets EventBridge deliver to the interruption queue, and refuses any non-TLS access. */
export function interruptionQueuePolicy(queueArn: string): string {
  return document([
    {
      Sid: "EventBridgeWrite",
      Effect: "Allow",
      Principal: { Service: ["events.amazonaws.com", "sqs.amazonaws.com"] },
      Action: "sqs:SendMessage",
      Resource: queueArn,
    },
    {
      Sid: "DenyHTTP",
      Effect: "Deny",
      Principal: { AWS: "*" },
      Action: "sqs:*",
      Resource: queueArn,
      Condition: { Bool: { "aws:SecureTransport": false } },
    },
  ]);
}

/** The four EventBridge events Karpenter handles (upstream getting-started template). */
export const interruptionEvents = [
  { name: "scheduled-change", source: "aws.health", detailType: "AWS Health Event" },
  { name: "spot-interruption", source: "aws.ec2", detailType: "EC2 Spot Instance Interruption Warning" },
  { name: "rebalance", source: "aws.ec2", detailType: "EC2 Instance Rebalance Recommendation" },
  { name: "instance-state-change", source: "aws.ec2", detailType: "EC2 Instance State-change Notification" },
] as const;

export function eventPattern(event: { source: string; detailType: string }): string {
  return JSON.stringify({ source: [event.source], "detail-type": [event.detailType] });
}
