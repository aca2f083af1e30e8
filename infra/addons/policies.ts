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
 * Karpenter 1.14 controller permissions, statement for statement as the upstream CloudFormation template
 * (website/content/en/docs/getting-started/getting-started-with-karpenter/cloudformation.yaml; vendored as
 * test/fixtures/upstream/karpenter-1.14.1.controller-policy.json): launches, tags and terminates only what carries
 * this cluster's tags, passes only its own node role, consumes only its own interruption queue. Upstream splits this
 * into five managed policies; one inline document is the same grant. The opt-in zonal-shift policy is left out: the
 * platform does not enable ENABLE_ZONAL_SHIFT.
 */
export function karpenterControllerPolicy(args: KarpenterPolicyArgs): string {
  const { partition, region, accountId, clusterName } = args;
  const ec2 = (type: string) => `arn:${partition}:ec2:${region}:*:${type}/*`;
  const instanceProfiles = `arn:${partition}:iam::${accountId}:instance-profile/*`;
  const owned = (kind: "RequestTag" | "ResourceTag") => `aws:${kind}/kubernetes.io/cluster/${clusterName}`;
  const clusterNameTag = "aws:RequestTag/eks:eks-cluster-name";
  // What Karpenter launches: instances and everything created with them.
  const launched = [
    "fleet",
    "instance",
    "volume",
    "network-interface",
    "launch-template",
    "spot-instances-request",
  ].map(ec2);
  const nodePoolOwned = {
    StringEquals: { [owned("ResourceTag")]: "owned" },
    StringLike: { "aws:ResourceTag/karpenter.sh/nodepool": "*" },
  };
  const profileOwned = {
    [owned("ResourceTag")]: "owned",
    "aws:ResourceTag/topology.kubernetes.io/region": region,
  };
  const profileRequest = {
    [owned("RequestTag")]: "owned",
    [clusterNameTag]: clusterName,
    "aws:RequestTag/topology.kubernetes.io/region": region,
  };
  return document([
    // NodeLifecyclePolicy
    {
      Sid: "AllowScopedEC2InstanceAccessActions",
      Effect: "Allow",
      Resource: [
        `arn:${partition}:ec2:${region}::image/*`,
        `arn:${partition}:ec2:${region}::snapshot/*`,
        ec2("security-group"),
        ec2("subnet"),
        ec2("capacity-reservation"),
        ec2("placement-group"),
      ],
      Action: ["ec2:RunInstances", "ec2:CreateFleet"],
    },
    {
      Sid: "AllowScopedEC2LaunchTemplateAccessActions",
      Effect: "Allow",
      Resource: ec2("launch-template"),
      Action: ["ec2:RunInstances", "ec2:CreateFleet"],
      Condition: nodePoolOwned,
    },
    {
      Sid: "AllowScopedEC2InstanceActionsWithTags",
      Effect: "Allow",
      Resource: launched,
      Action: ["ec2:RunInstances", "ec2:CreateFleet", "ec2:CreateLaunchTemplate"],
      Condition: {
        StringEquals: { [owned("RequestTag")]: "owned", [clusterNameTag]: clusterName },
        StringLike: { "aws:RequestTag/karpenter.sh/nodepool": "*" },
      },
    },
    {
      Sid: "AllowScopedResourceCreationTagging",
      Effect: "Allow",
      Resource: launched,
      Action: "ec2:CreateTags",
      Condition: {
        StringEquals: {
          [owned("RequestTag")]: "owned",
          [clusterNameTag]: clusterName,
          "ec2:CreateAction": ["RunInstances", "CreateFleet", "CreateLaunchTemplate"],
        },
        StringLike: { "aws:RequestTag/karpenter.sh/nodepool": "*" },
      },
    },
    {
      // Existing instances: only the tags Karpenter itself maintains, never the ownership tags.
      Sid: "AllowScopedResourceTagging",
      Effect: "Allow",
      Resource: ec2("instance"),
      Action: "ec2:CreateTags",
      Condition: {
        ...nodePoolOwned,
        StringEqualsIfExists: { [clusterNameTag]: clusterName },
        "ForAllValues:StringEquals": {
          "aws:TagKeys": ["eks:eks-cluster-name", "karpenter.sh/nodeclaim", "Name"],
        },
      },
    },
    {
      Sid: "AllowScopedDeletion",
      Effect: "Allow",
      Resource: [ec2("instance"), ec2("launch-template")],
      Action: ["ec2:TerminateInstances", "ec2:DeleteLaunchTemplate"],
      Condition: nodePoolOwned,
    },
    // IAMIntegrationPolicy
    {
      Sid: "AllowPassingInstanceRole",
      Effect: "Allow",
      Resource: args.nodeRoleArn,
      Action: "iam:PassRole",
      Condition: { StringEquals: { "iam:PassedToService": ["ec2.amazonaws.com", "ec2.amazonaws.com.cn"] } },
    },
    {
      Sid: "AllowScopedInstanceProfileCreationActions",
      Effect: "Allow",
      Resource: instanceProfiles,
      Action: ["iam:CreateInstanceProfile"],
      Condition: {
        StringEquals: profileRequest,
        StringLike: { "aws:RequestTag/karpenter.k8s.aws/ec2nodeclass": "*" },
      },
    },
    {
      // Re-tagging a profile needs both: it is already this cluster's, and stays this cluster's.
      Sid: "AllowScopedInstanceProfileTagActions",
      Effect: "Allow",
      Resource: instanceProfiles,
      Action: ["iam:TagInstanceProfile"],
      Condition: {
        StringEquals: { ...profileOwned, ...profileRequest },
        StringLike: {
          "aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass": "*",
          "aws:RequestTag/karpenter.k8s.aws/ec2nodeclass": "*",
        },
      },
    },
    {
      Sid: "AllowScopedInstanceProfileActions",
      Effect: "Allow",
      Resource: instanceProfiles,
      Action: [
        "iam:AddRoleToInstanceProfile",
        "iam:RemoveRoleFromInstanceProfile",
        "iam:DeleteInstanceProfile",
      ],
      Condition: {
        StringEquals: profileOwned,
        StringLike: { "aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass": "*" },
      },
    },
    // EKSIntegrationPolicy
    {
      Sid: "AllowAPIServerEndpointDiscovery",
      Effect: "Allow",
      Resource: args.clusterArn,
      Action: "eks:DescribeCluster",
    },
    // InterruptionPolicy
    {
      Sid: "AllowInterruptionQueueActions",
      Effect: "Allow",
      Resource: args.interruptionQueueArn,
      Action: ["sqs:DeleteMessage", "sqs:GetQueueUrl", "sqs:ReceiveMessage"],
    },
    // ResourceDiscoveryPolicy
    {
      Sid: "AllowRegionalReadActions",
      Effect: "Allow",
      Resource: "*",
      Action: [
        "ec2:DescribeCapacityReservations",
        "ec2:DescribeImages",
        "ec2:DescribeInstances",
        // Without it Karpenter switches its instance-status health checks off.
        "ec2:DescribeInstanceStatus",
        "ec2:DescribeInstanceTypeOfferings",
        "ec2:DescribeInstanceTypes",
        "ec2:DescribeLaunchTemplates",
        "ec2:DescribePlacementGroups",
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeSpotPriceHistory",
        "ec2:DescribeSubnets",
      ],
      Condition: { StringEquals: { "aws:RequestedRegion": region } },
    },
    {
      Sid: "AllowSSMReadActions",
      Effect: "Allow",
      Resource: `arn:${partition}:ssm:${region}::parameter/aws/service/*`,
      Action: "ssm:GetParameter",
    },
    { Sid: "AllowPricingReadActions", Effect: "Allow", Resource: "*", Action: "pricing:GetProducts" },
    {
      Sid: "AllowUnscopedInstanceProfileListAction",
      Effect: "Allow",
      Resource: "*",
      Action: "iam:ListInstanceProfiles",
    },
    {
      Sid: "AllowInstanceProfileReadActions",
      Effect: "Allow",
      Resource: instanceProfiles,
      Action: "iam:GetInstanceProfile",
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

/** The five EventBridge events Karpenter 1.14 handles (upstream getting-started template). */
export const interruptionEvents = [
  { name: "scheduled-change", source: "aws.health", detailType: "AWS Health Event" },
  { name: "spot-interruption", source: "aws.ec2", detailType: "EC2 Spot Instance Interruption Warning" },
  { name: "rebalance", source: "aws.ec2", detailType: "EC2 Instance Rebalance Recommendation" },
  { name: "instance-state-change", source: "aws.ec2", detailType: "EC2 Instance State-change Notification" },
  {
    name: "capacity-reservation",
    source: "aws.ec2",
    detailType: "EC2 Capacity Reservation Instance Interruption Warning",
  },
] as const;

export function eventPattern(event: { source: string; detailType: string }): string {
  return JSON.stringify({ source: [event.source], "detail-type": [event.detailType] });
}
