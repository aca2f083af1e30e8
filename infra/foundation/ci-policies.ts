import { ciNames, fleetRolePathRoot, FoundationEnvironment, policyArn, roleBoundaryTagKey } from "./contract";

/**
 * IAM documents of the foundation's CI identity, as pure functions (tested without mocks). docs/pipeline.md
 * ("CI identity: trust and permissions") explains the choices: exact OIDC claims, IAM bounded by a permissions
 * boundary per environment, region-locked services, nothing of the foundation writable by a deploy role.
 */

export const githubOidcHost = "token.actions.githubusercontent.com";
export const githubOidcUrl = `https://${githubOidcHost}`;
/** The audience aws-actions/configure-aws-credentials requests. */
export const stsAudience = "sts.amazonaws.com";

type Statement = Record<string, unknown>;
interface PolicyDocument {
  Version: "2012-10-17";
  Statement: Statement[];
}

/** GitHub's default OIDC subject of a job that runs for a pull request. */
export function pullRequestSubject(repository: string): string {
  return `repo:${repository}:pull_request`;
}

/** GitHub's default OIDC subject of a job that runs in a GitHub environment. */
export function environmentSubject(repository: string, environment: string): string {
  return `repo:${repository}:environment:${environment}`;
}

/** IAM's size quotas in characters, whitespace not counted: all inline policies of one role together; a managed policy. */
export const iamPolicyQuota = { inlinePerRole: 10_240, managed: 6_144 } as const;

/**
 * The policy as JSON, or a clear error when it exceeds its IAM quota (AWS would refuse it mid-`pulumi up`, with the
 * roles half-written). The deploy policy and boundary grow with each cluster listed for an environment.
 */
export function policyWithinQuota(
  document: PolicyDocument,
  quota: number,
  what: string,
  fix: string,
): string {
  const text = JSON.stringify(document);
  const size = text.replace(/\s/g, "").length;
  if (size > quota)
    throw new Error(
      `${what} is ${size} characters, over IAM's limit of ${quota} (whitespace not counted): ${fix}`,
    );
  return text;
}

/** Trust of a CI role: this provider, exactly this audience and exactly this subject (no wildcards). */
export function githubTrustPolicy(providerArn: string, subject: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Federated: providerArn },
        Action: "sts:AssumeRoleWithWebIdentity",
        Condition: {
          StringEquals: {
            [`${githubOidcHost}:aud`]: stsAudience,
            [`${githubOidcHost}:sub`]: subject,
          },
        },
      },
    ],
  };
}

export interface StateBackend {
  readonly bucketArn?: string;
  readonly kmsKeyArn?: string;
}

/** A self-managed backend's bucket (state, locks) and key (secrets provider, bucket encryption). */
export function stateStatements(state: StateBackend): Statement[] {
  const statements: Statement[] = [];
  if (state.bucketArn)
    statements.push(
      { Sid: "StateBucketList", Effect: "Allow", Action: "s3:ListBucket", Resource: state.bucketArn },
      {
        Sid: "StateObjects",
        Effect: "Allow",
        Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
        Resource: `${state.bucketArn}/*`,
      },
    );
  if (state.kmsKeyArn)
    statements.push({
      Sid: "StateKey",
      Effect: "Allow",
      Action: ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
      Resource: state.kmsKeyArn,
    });
  return statements;
}

/** Managed policies an escalation would reach for: never attachable by a deploy role. */
export const forbiddenManagedPolicies = ["AdministratorAccess", "PowerUserAccess", "IAMFullAccess"];

/** Both deploy roles: attaching (or bounding with) an admin-class managed policy is denied, whatever else allows. */
function noAdminPolicies(partition: string): Statement {
  return {
    Sid: "NoAdminPolicies",
    Effect: "Deny",
    Action: ["iam:AttachRolePolicy", "iam:PutRolePermissionsBoundary"],
    Resource: "*",
    Condition: {
      ArnLike: {
        "iam:PolicyARN": forbiddenManagedPolicies.map((name) => `arn:${partition}:iam::aws:policy/${name}`),
      },
    },
  };
}

/**
 * Services a cluster deploy may pass its roles to: EKS (the cluster role, node roles of managed node groups and
 * Auto Mode, Fargate's pod execution role), EC2 (instance profiles), EKS Pod Identity and the EKS Argo CD capability.
 */
export const passRoleServices = [
  "eks.amazonaws.com",
  "ec2.amazonaws.com",
  "pods.eks.amazonaws.com",
  "capabilities.eks.amazonaws.com",
];

/** IAM writes on a role that change what it may do or who may use it (all take `iam:PermissionsBoundary`). */
const boundedRoleWrites = [
  "iam:PutRolePolicy",
  "iam:DeleteRolePolicy",
  "iam:AttachRolePolicy",
  "iam:DetachRolePolicy",
  "iam:PutRolePermissionsBoundary",
  "iam:UpdateAssumeRolePolicy",
  "iam:UpdateRole",
  "iam:UpdateRoleDescription",
  "iam:DeleteRole",
];

/** Changes to a managed policy: never allowed on a role boundary except to the foundation that declares it. */
const policyWrites = [
  "iam:CreatePolicyVersion",
  "iam:DeletePolicyVersion",
  "iam:SetDefaultPolicyVersion",
  "iam:DeletePolicy",
  "iam:TagPolicy",
  "iam:UntagPolicy",
];

/** The CI roles and role boundaries one foundation declares: its deploy roles never change them. */
export interface FoundationIam {
  readonly partition: string;
  readonly accountId: string;
  readonly namePrefix: string;
  /** Every environment the foundation serves. */
  readonly environments: readonly FoundationEnvironment[];
}

const roleArnOf = (iam: FoundationIam, name: string) =>
  `arn:${iam.partition}:iam::${iam.accountId}:role/${name}`;

/** ARN of an environment's role boundary (a customer managed policy the foundation declares). */
export function roleBoundaryArn(iam: FoundationIam, environment: FoundationEnvironment): string {
  return policyArn(iam.partition, iam.accountId, ciNames(iam.namePrefix, environment).roleBoundary);
}

/** The foundation's CI roles (deploy, preview and runner of every environment, its own deploy and preview). */
export function ciRoleArns(iam: FoundationIam): string[] {
  return [
    ...iam.environments.flatMap((environment) => {
      const names = ciNames(iam.namePrefix, environment);
      return [names.deployRole, names.previewRole, names.runnerRole];
    }),
    ciNames(iam.namePrefix, "foundation").deployRole,
    ciNames(iam.namePrefix, "foundation").previewRole,
  ].map((name) => roleArnOf(iam, name));
}

/** Both deploy roles: the CI roles and the role boundaries are never changed through them. */
function foundationIamIsFixed(iam: FoundationIam): Statement[] {
  return [
    {
      Sid: "CiRolesAreFixed",
      Effect: "Deny",
      NotAction: ["iam:Get*", "iam:List*"],
      Resource: ciRoleArns(iam),
    },
    {
      Sid: "RoleBoundariesAreFixed",
      Effect: "Deny",
      Action: policyWrites,
      Resource: iam.environments.map((environment) => roleBoundaryArn(iam, environment)),
    },
  ];
}

/** The roles an environment owns: those named after its clusters (`<cluster>-*`). */
export interface OwnedRoles {
  /** The environment's clusters (`environments.<env>.clusters` in the foundation config). */
  readonly clusters: readonly string[];
}

/** ARN patterns of the roles an environment owns (root path, and the fleet path); none when it lists no cluster. */
export function ownedRoleArns(iam: FoundationIam, owned: OwnedRoles): string[] {
  return owned.clusters.flatMap((cluster) => [
    roleArnOf(iam, `${cluster}-*`),
    roleArnOf(iam, `${fleetRolePathRoot}/*/${cluster}-*`),
  ]);
}

/** Allow statements on the owned roles; IAM refuses a statement with no resource, so none without clusters. */
function onOwnedRoles(resources: readonly string[], statements: readonly Statement[]): Statement[] {
  return resources.length === 0
    ? []
    : statements.map((statement) => ({ ...statement, Resource: [...resources] }));
}

/** EKS actions whose Service Authorization Reference entry has no resource type (they take `"*"`). */
export const eksActionsWithoutResource = [
  "eks:CreateCluster",
  "eks:ListClusters",
  "eks:DescribeAddonVersions",
  "eks:DescribeAddonConfiguration",
  "eks:DescribeClusterVersions",
  "eks:ListAccessPolicies",
];

/** EKS resource types named `<type>/<cluster>/…` (Service Authorization Reference, Amazon EKS resource types). */
const eksClusterScopedTypes = [
  "nodegroup",
  "addon",
  "fargateprofile",
  "access-entry",
  "podidentityassociation",
  "capability",
  "identityproviderconfig",
];

/** ARNs of an environment's clusters and of everything EKS names under them, in the foundation's region. */
export function eksClusterArns(args: FoundationIam & OwnedRoles & { readonly region: string }): string[] {
  const base = `arn:${args.partition}:eks:${args.region}:${args.accountId}`;
  return args.clusters.flatMap((cluster) => [
    `${base}:cluster/${cluster}`,
    ...eksClusterScopedTypes.map((type) => `${base}:${type}/${cluster}/*`),
  ]);
}

export interface DeployPolicyArgs extends FoundationIam, OwnedRoles {
  readonly region: string;
  /** The environment whose deploy role this is. */
  readonly environment: FoundationEnvironment;
  readonly state: StateBackend;
}

/**
 * The deploy role of one environment: what the cluster program needs, and no more than that where IAM can say so.
 * IAM (the escalation path) is bounded: it creates, changes and passes only roles named after its environment's
 * clusters, and creates or changes them only under the environment's permissions boundary (`roleBoundaryPolicy`),
 * so no role it touches can do more than the boundary allows, and roles without it (OrganizationAccountAccessRole,
 * the CI roles, other environments' roles) are out of its reach. The other services are scoped by region; nothing
 * tagged `layer=foundation` may be changed.
 */
export function clusterDeployPolicy(args: DeployPolicyArgs): PolicyDocument {
  const inRegion = { StringEquals: { "aws:RequestedRegion": args.region } };
  const owned = ownedRoleArns(args, args);
  const boundary = roleBoundaryArn(args, args.environment);
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "ClusterServicesInRegion",
        Effect: "Allow",
        Action: [
          "ec2:Describe*",
          "ec2:CreateSubnet",
          "ec2:DeleteSubnet",
          "ec2:ModifySubnetAttribute",
          "ec2:CreateRouteTable",
          "ec2:DeleteRouteTable",
          "ec2:CreateRoute",
          "ec2:DeleteRoute",
          "ec2:ReplaceRoute",
          "ec2:AssociateRouteTable",
          "ec2:DisassociateRouteTable",
          "ec2:ModifyVpcEndpoint",
          "ec2:CreateTags",
          "ec2:DeleteTags",
          "ec2:CreateSecurityGroup",
          "ec2:DeleteSecurityGroup",
          "ec2:AuthorizeSecurityGroupIngress",
          "ec2:RevokeSecurityGroupIngress",
          // Its own groups: the provider revokes a new group's default allow-all egress rule, and manages its egress.
          "ec2:AuthorizeSecurityGroupEgress",
          "ec2:RevokeSecurityGroupEgress",
          "ec2:ModifySecurityGroupRules",
          // Interface endpoints of its own (managed Argo CD's eks-capabilities endpoint) in its subnets.
          "ec2:CreateVpcEndpoint",
          "ec2:DeleteVpcEndpoints",
          "ec2:CreateLaunchTemplate",
          "ec2:CreateLaunchTemplateVersion",
          "ec2:DeleteLaunchTemplate",
          "kms:CreateKey",
          "kms:CreateAlias",
          "kms:DeleteAlias",
          "kms:UpdateAlias",
          "kms:DescribeKey",
          "kms:GetKeyPolicy",
          "kms:GetKeyRotationStatus",
          "kms:PutKeyPolicy",
          "kms:EnableKeyRotation",
          "kms:ListAliases",
          "kms:ListResourceTags",
          "kms:TagResource",
          "kms:UntagResource",
          "kms:ScheduleKeyDeletion",
          "kms:CreateGrant",
          "kms:Encrypt",
          "kms:Decrypt",
          "kms:GenerateDataKey*",
          "logs:*",
          "sqs:*",
          "events:*",
          "ssm:GetParameter",
          "ssm:GetParameters",
          // What the teardown's leftover check reads (ops/verify/inventory.ts `findLeftovers`) during a destroy.
          "elasticloadbalancing:DescribeLoadBalancers",
          "elasticloadbalancing:DescribeTags",
        ],
        Resource: "*",
        Condition: inRegion,
      },
      {
        // EKS actions that take no resource (Service Authorization Reference): creating a cluster, version lookups.
        Sid: "EksWithoutResource",
        Effect: "Allow",
        Action: eksActionsWithoutResource,
        Resource: "*",
        Condition: inRegion,
      },
      // Every other EKS action only on its environment's clusters and what lives in them: another environment's
      // cluster in the same account (an access entry or access policy there = cluster admin, its config, its Pod
      // Identity associations) is out of reach.
      ...(args.clusters.length === 0
        ? []
        : [
            {
              Sid: "OwnClustersOnly",
              Effect: "Allow",
              Action: "eks:*",
              Resource: eksClusterArns(args),
            },
          ]),
      // Ownership is two facts a deploy role cannot forge: the role's name (`<cluster>-*` of its environment's
      // clusters: a role's name never changes) and, for every write that takes the key, its current boundary.
      ...onOwnedRoles(owned, [
        {
          Sid: "CreateRolesWithBoundary",
          Effect: "Allow",
          Action: "iam:CreateRole",
          Condition: { StringEquals: { "iam:PermissionsBoundary": boundary } },
        },
        {
          // iam:PermissionsBoundary is the role's current boundary here (the requested one for
          // PutRolePermissionsBoundary, which the name limits to the environment's roles).
          Sid: "ChangeBoundedRolesOnly",
          Effect: "Allow",
          Action: boundedRoleWrites,
          Condition: { StringEquals: { "iam:PermissionsBoundary": boundary } },
        },
        {
          // Also what IAM checks for the tags given to CreateRole. Tags grant nothing here.
          Sid: "TagOwnedRoles",
          Effect: "Allow",
          Action: ["iam:TagRole", "iam:UntagRole"],
        },
        {
          Sid: "PassOwnedRolesToEksOnly",
          Effect: "Allow",
          Action: "iam:PassRole",
          Condition: { StringEquals: { "iam:PassedToService": passRoleServices } },
        },
      ]),
      {
        Sid: "BoundaryStays",
        Effect: "Deny",
        Action: "iam:DeleteRolePermissionsBoundary",
        Resource: "*",
      },
      {
        Sid: "ReadIam",
        Effect: "Allow",
        Action: [
          "iam:GetRole",
          "iam:GetRolePolicy",
          "iam:ListRolePolicies",
          "iam:ListAttachedRolePolicies",
          "iam:ListInstanceProfilesForRole",
          "iam:ListRoleTags",
          "iam:GetPolicy",
          "iam:GetPolicyVersion",
          "iam:GetOpenIDConnectProvider",
        ],
        Resource: "*",
      },
      {
        Sid: "EksServiceLinkedRoles",
        Effect: "Allow",
        Action: "iam:CreateServiceLinkedRole",
        Resource: "*",
        Condition: {
          StringEquals: {
            "iam:AWSServiceName": [
              "eks.amazonaws.com",
              "eks-nodegroup.amazonaws.com",
              "autoscaling.amazonaws.com",
            ],
          },
        },
      },
      noAdminPolicies(args.partition),
      ...foundationIamIsFixed(args),
      // A security group or an endpoint of its own is created in the foundation's VPC (IAM authorizes it on the VPC).
      ...foundationIsReadOnly(["ec2:CreateSecurityGroup", "ec2:CreateVpcEndpoint"]),
      {
        // ...but an endpoint may not reach into the foundation's route tables (a gateway endpoint adds routes to
        // them), subnets or security groups.
        Sid: "EndpointsStayOutOfFoundation",
        Effect: "Deny",
        Action: "ec2:CreateVpcEndpoint",
        Resource: ["route-table", "subnet", "security-group"].map(
          (type) => `arn:${args.partition}:ec2:*:*:${type}/*`,
        ),
        Condition: { StringEquals: { "aws:ResourceTag/layer": "foundation" } },
      },
      ...otherEnvironmentsOutOfReach(args.environment, args.clusters, true),
      ...stateStatements(args.state),
    ],
  };
}

/**
 * Tags that name the EKS cluster a resource belongs to, set by AWS, not by the program: the cluster security group
 * EKS creates (`aws:eks:cluster-name`), Auto Mode's and Karpenter's nodes, volumes and launch templates
 * (`eks:eks-cluster-name`), managed node groups' instances (`eks:cluster-name`).
 */
export const eksClusterTagKeys = ["aws:eks:cluster-name", "eks:eks-cluster-name", "eks:cluster-name"];

/** The tag the cluster program puts on everything it creates (`environment`, one of infra/config's platformTagKeys). */
export const environmentTagKey = "environment";

/** Reads that stay allowed on another environment's resources (the program and its teardown look things up). */
const crossEnvironmentReads = [
  "ec2:Describe*",
  "elasticloadbalancing:Describe*",
  "eks:Describe*",
  "eks:List*",
  "iam:Get*",
  "iam:List*",
  "kms:Describe*",
  "kms:List*",
  "logs:Describe*",
  "logs:List*",
  "sqs:GetQueueUrl",
  "sqs:GetQueueAttributes",
  "sqs:ListQueues",
  "sqs:ListQueueTags",
  "events:Describe*",
  "events:List*",
];

/**
 * Another environment's resources in the same account: nothing but reads on what is tagged with one of its clusters
 * (EKS's own tags) and, with `byEnvironmentTag`, on what its stacks created (`environment=<other>`). A resource's
 * tags cannot be changed here either (tagging is a write on it), so none can be moved into reach.
 */
function otherEnvironmentsOutOfReach(
  environment: FoundationEnvironment,
  clusters: readonly string[],
  byEnvironmentTag: boolean,
): Statement[] {
  const notOurs = (key: string, ours: readonly string[]) => ({
    ...(ours.length > 0 ? { StringNotEquals: { [`aws:ResourceTag/${key}`]: [...ours] } } : {}),
    Null: { [`aws:ResourceTag/${key}`]: "false" },
  });
  const sid = (key: string) =>
    `OtherClustersOutOfReach${key
      .split(/[^a-z]+/)
      .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
      .join("")}`;
  return [
    ...(byEnvironmentTag
      ? [
          {
            Sid: "OtherEnvironmentsOutOfReach",
            Effect: "Deny",
            NotAction: crossEnvironmentReads,
            Resource: "*",
            Condition: notOurs(environmentTagKey, [environment]),
          },
        ]
      : []),
    ...eksClusterTagKeys.map((key) => ({
      Sid: sid(key),
      Effect: "Deny",
      NotAction: crossEnvironmentReads,
      Resource: "*",
      Condition: notOurs(key, clusters),
    })),
  ];
}

/**
 * Nothing tagged `layer=foundation` (the VPC, its subnets, NAT, runners, CI roles, boundaries) may be changed, its
 * tags included: a `kubernetes.io/cluster/<x>` or `kubernetes.io/role/elb` tag on a shared subnet steers or blocks
 * other clusters' load balancers (subnet discovery). Tags the program gives its own subnets and route tables are
 * authorized on those new resources (`ec2:CreateAction`), not on the VPC. `alsoAllowed` names actions that only
 * place something new inside a foundation resource; allowing `ec2:CreateTags` there still keeps `layer`.
 */
function foundationIsReadOnly(alsoAllowed: readonly string[] = []): Statement[] {
  return [
    {
      Sid: "FoundationIsReadOnly",
      Effect: "Deny",
      NotAction: [
        "ec2:Describe*",
        "ec2:CreateSubnet",
        "ec2:CreateRouteTable",
        "ec2:ModifyVpcEndpoint",
        "iam:Get*",
        "iam:List*",
        "kms:Describe*",
        "kms:Get*",
        "kms:List*",
        "logs:Describe*",
        "logs:List*",
        ...alsoAllowed,
      ],
      Resource: "*",
      Condition: { StringEquals: { "aws:ResourceTag/layer": "foundation" } },
    },
    ...(alsoAllowed.includes("ec2:CreateTags")
      ? [
          {
            // A resource re-tagged `layer=<anything else>` would fall out of FoundationIsReadOnly.
            Sid: "FoundationLayerTagIsKept",
            Effect: "Deny",
            Action: "ec2:CreateTags",
            Resource: "*",
            Condition: {
              StringEquals: { "aws:ResourceTag/layer": "foundation" },
              "ForAnyValue:StringEquals": { "aws:TagKeys": ["layer"] },
            },
          },
        ]
      : []),
  ];
}

export interface RoleBoundaryArgs extends FoundationIam, OwnedRoles {
  readonly region: string;
  readonly environment: FoundationEnvironment;
}

/**
 * The permissions boundary of every role an environment's cluster stacks create: the most any of them may ever do,
 * whatever inline policy a deploy attaches. It is the union of what those roles need (the EKS cluster role with
 * Auto Mode's managed policies, node roles, Fargate's pod execution role, the Pod Identity roles of Karpenter,
 * Cilium, the EBS CSI driver, the VPC CNI, the AWS Load Balancer Controller, ExternalDNS and External Secrets, a
 * fleet hub's Argo CD and a spoke's hub-access role; test/infra/role-boundary.test.ts checks each of their
 * statements against it) and holds no way back into IAM: no role, policy, user or key writes, PassRole only of the
 * environment's roles, AssumeRole only of roles tagged with a boundary of this project (which must also trust the
 * caller), nothing of the foundation writable.
 */
export function roleBoundaryPolicy(args: RoleBoundaryArgs): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        // EC2 and load balancing are the add-ons' and EKS's own work (nodes, ENIs, volumes, security groups, load
        // balancers); the managed and inline policies narrow them further by cluster tag.
        Sid: "ClusterWorkloadServices",
        Effect: "Allow",
        Action: [
          "ec2:*",
          "elasticloadbalancing:*",
          "autoscaling:DescribeAutoScalingGroups",
          "autoscaling:UpdateAutoScalingGroup",
          "eks:DescribeCluster",
          "eks-auth:AssumeRoleForPodIdentity",
          "ecr:GetAuthorizationToken",
          "ecr:BatchGetImage",
          "ecr:BatchCheckLayerAvailability",
          "ecr:GetDownloadUrlForLayer",
          "ecr:BatchImportUpstreamImage",
          "kms:DescribeKey",
          "sqs:GetQueueUrl",
          "sqs:ReceiveMessage",
          "sqs:DeleteMessage",
          "pricing:GetProducts",
          "ssm:GetParameter",
          "ssm:GetParameters",
          "ssm:DescribeAssociation",
          "ssm:GetDeployablePatchSnapshotForInstance",
          "ssm:GetDocument",
          "ssm:DescribeDocument",
          "ssm:GetManifest",
          "ssm:ListAssociations",
          "ssm:ListInstanceAssociations",
          "ssm:PutInventory",
          "ssm:PutComplianceItems",
          "ssm:PutConfigurePackageResult",
          "ssm:UpdateAssociationStatus",
          "ssm:UpdateInstanceAssociationStatus",
          "ssm:UpdateInstanceInformation",
          "ssmmessages:*",
          "ec2messages:*",
          "acm:ListCertificates",
          "acm:DescribeCertificate",
          "cognito-idp:DescribeUserPoolClient",
          "wafv2:*",
          "waf-regional:*",
          "shield:*",
          "route53:ChangeResourceRecordSets",
          "route53:ListResourceRecordSets",
          "route53:ListTagsForResources",
          "route53:ListHostedZones",
          "secretsmanager:GetSecretValue",
          "secretsmanager:DescribeSecret",
          "secretsmanager:GetResourcePolicy",
          "secretsmanager:ListSecretVersionIds",
        ],
        Resource: "*",
      },
      {
        // Karpenter and Auto Mode manage the instance profiles of their node role; the Load Balancer Controller
        // reads server certificates. None of these grants a permission.
        Sid: "InstanceProfilesAndCertificates",
        Effect: "Allow",
        Action: [
          "iam:CreateInstanceProfile",
          "iam:DeleteInstanceProfile",
          "iam:TagInstanceProfile",
          "iam:AddRoleToInstanceProfile",
          "iam:RemoveRoleFromInstanceProfile",
          "iam:GetInstanceProfile",
          "iam:ListInstanceProfiles",
          "iam:ListServerCertificates",
          "iam:GetServerCertificate",
        ],
        Resource: "*",
      },
      {
        Sid: "ServiceLinkedRoles",
        Effect: "Allow",
        Action: "iam:CreateServiceLinkedRole",
        Resource: "*",
        Condition: {
          StringEquals: {
            "iam:AWSServiceName": ["elasticloadbalancing.amazonaws.com", "spot.amazonaws.com"],
          },
        },
      },
      // Nodes get their role through an instance profile: only a role of this environment.
      ...onOwnedRoles(ownedRoleArns(args, args), [
        {
          Sid: "PassOwnedRolesToEc2",
          Effect: "Allow",
          Action: "iam:PassRole",
          Condition: { StringEquals: { "iam:PassedToService": "ec2.amazonaws.com" } },
        },
      ]),
      {
        // A fleet hub's Argo CD reaches its spokes through their hub-access roles (in this or another account):
        // only roles created under a boundary of this project, never a role that merely trusts the account.
        Sid: "AssumeBoundedRolesOnly",
        Effect: "Allow",
        Action: ["sts:AssumeRole", "sts:TagSession"],
        Resource: `arn:${args.partition}:iam::*:role/*`,
        Condition: {
          StringLike: {
            [`iam:ResourceTag/${roleBoundaryTagKey}`]: `arn:${args.partition}:iam::*:policy/*-role-boundary`,
          },
        },
      },
      // Load balancers' security groups are created in the (foundation's) VPC, nodes and ENIs in its subnets.
      ...foundationIsReadOnly([
        "ec2:CreateSecurityGroup",
        "ec2:CreateNetworkInterface",
        "ec2:RunInstances",
        "ec2:CreateFleet",
        "ec2:CreateTags",
      ]),
      // Whatever inline policy a role of this environment carries, another environment's clusters (their security
      // group, nodes, volumes) are out of its reach. Not by the `environment` tag: a team's own shared resources may
      // carry it, and a boundary that refused them would break add-ons at runtime.
      ...otherEnvironmentsOutOfReach(args.environment, args.clusters, false),
    ],
  };
}

export interface FoundationDeployPolicyArgs extends FoundationIam {
  readonly region: string;
  readonly state: StateBackend;
}

/**
 * The foundation's own deploy role: the VPC, CodeBuild, KMS and logs in its region, the CI roles it declares (by
 * exact name) and the environments' role boundaries. It is assumed only by the foundation's GitHub environment and
 * can never change itself: its own role, trust and policies change only with administrator credentials.
 */
export function foundationDeployPolicy(args: FoundationDeployPolicyArgs): PolicyDocument {
  const own = roleArnOf(args, ciNames(args.namePrefix, "foundation").deployRole);
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "FoundationServicesInRegion",
        Effect: "Allow",
        Action: ["ec2:*", "codebuild:*", "codeconnections:*", "codestar-connections:*", "kms:*", "logs:*"],
        Resource: "*",
        Condition: { StringEquals: { "aws:RequestedRegion": args.region } },
      },
      {
        Sid: "FoundationRoles",
        Effect: "Allow",
        Action: [
          "iam:*Role",
          "iam:*RolePolicy",
          "iam:*RolePolicies",
          "iam:TagRole",
          "iam:UntagRole",
          "iam:PassRole",
        ],
        Resource: ciRoleArns(args).filter((arn) => arn !== own),
      },
      {
        Sid: "RoleBoundaries",
        Effect: "Allow",
        Action: ["iam:CreatePolicy", ...policyWrites],
        Resource: args.environments.map((environment) => roleBoundaryArn(args, environment)),
      },
      {
        Sid: "GitHubOidcProvider",
        Effect: "Allow",
        Action: ["iam:*OpenIDConnectProvider*"],
        Resource: `arn:${args.partition}:iam::${args.accountId}:oidc-provider/${githubOidcHost}`,
      },
      {
        Sid: "ReadIam",
        Effect: "Allow",
        Action: ["iam:Get*", "iam:List*", "iam:CreateServiceLinkedRole"],
        Resource: "*",
      },
      {
        // Whatever else allows it: a role that may rewrite its own policy or trust holds every right it can write.
        Sid: "NotItself",
        Effect: "Deny",
        NotAction: ["iam:Get*", "iam:List*"],
        Resource: own,
      },
      noAdminPolicies(args.partition),
      ...stateStatements(args.state),
    ],
  };
}

export interface RunnerPolicyArgs {
  readonly partition: string;
  readonly accountId: string;
  readonly region: string;
  readonly logGroupArn: string;
  readonly connectionArn: string;
  readonly subnetArns: readonly string[];
  readonly keyArn: string;
}

/** `GetConnection` and `GetConnectionToken` under the service prefix of a connection's ARN. */
export function connectionActions(connectionArn: string): string[] {
  const service = connectionArn.split(":")[2];
  if (service !== "codeconnections" && service !== "codestar-connections")
    throw new Error(
      `${connectionArn} is not a CodeConnections connection ARN (arn:<partition>:codeconnections:… or codestar-connections:…)`,
    );
  return [`${service}:GetConnection`, `${service}:GetConnectionToken`];
}

/**
 * The CodeBuild service role of a runner: its logs, its build's network interface in the runner subnets (the
 * statements the CodeBuild user guide lists for VPC builds), the GitHub connection and the log key. Jobs never
 * deploy with it: they assume their environment's role by OIDC.
 */
export function runnerRolePolicy(args: RunnerPolicyArgs): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "BuildLogs",
        Effect: "Allow",
        Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
        Resource: [args.logGroupArn, `${args.logGroupArn}:*`],
      },
      {
        Sid: "VpcBuildNetworking",
        Effect: "Allow",
        Action: [
          "ec2:CreateNetworkInterface",
          "ec2:DescribeDhcpOptions",
          "ec2:DescribeNetworkInterfaces",
          "ec2:DeleteNetworkInterface",
          "ec2:DescribeSubnets",
          "ec2:DescribeSecurityGroups",
          "ec2:DescribeVpcs",
        ],
        Resource: "*",
      },
      {
        Sid: "VpcBuildInterfacePermission",
        Effect: "Allow",
        Action: "ec2:CreateNetworkInterfacePermission",
        Resource: `arn:${args.partition}:ec2:${args.region}:${args.accountId}:network-interface/*`,
        Condition: {
          StringEquals: {
            "ec2:Subnet": [...args.subnetArns],
            "ec2:AuthorizedService": "codebuild.amazonaws.com",
          },
        },
      },
      {
        // The two actions the CodeBuild user guide ("GitHub App connections", step 2) gives the project role, in the
        // service prefix of the connection's own ARN: IAM matches an action's prefix to the resource's
        // (Developer Tools console user guide, "Identity and access management": the prefixes must match).
        Sid: "GitHubConnection",
        Effect: "Allow",
        Action: connectionActions(args.connectionArn),
        Resource: args.connectionArn,
      },
      {
        Sid: "LogAndArtifactKey",
        Effect: "Allow",
        Action: ["kms:Decrypt", "kms:GenerateDataKey*", "kms:DescribeKey"],
        Resource: args.keyArn,
      },
    ],
  };
}
