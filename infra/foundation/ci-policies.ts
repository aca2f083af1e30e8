/**
 * IAM documents of the foundation's CI identity, as pure functions (tested without mocks). docs/pipeline.md
 * ("CI identity: trust and permissions") explains the choices: exact OIDC claims, tag-scoped IAM, region-locked
 * services, nothing of the foundation writable by an environment's deploy role.
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

/** Services whose managed EKS service roles and Pod Identity a cluster deploy may pass roles to. */
export const passRoleServices = ["eks.amazonaws.com", "ec2.amazonaws.com", "pods.eks.amazonaws.com"];

export interface DeployPolicyArgs {
  readonly partition: string;
  readonly accountId: string;
  readonly region: string;
  /** Value of the `environment` tag the cluster program puts on everything it creates. */
  readonly environment: string;
  readonly state: StateBackend;
}

/**
 * The deploy role of one environment: what the cluster program needs, and no more than that where IAM can say so.
 * IAM (the escalation path) is scoped by the `environment` tag; the other services by region; nothing tagged
 * `layer=foundation` may be changed.
 */
export function clusterDeployPolicy(args: DeployPolicyArgs): PolicyDocument {
  const inRegion = { StringEquals: { "aws:RequestedRegion": args.region } };
  const role = `arn:${args.partition}:iam::${args.accountId}:role/*`;
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "ClusterServicesInRegion",
        Effect: "Allow",
        Action: [
          "eks:*",
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
          "ec2:AuthorizeSecurityGroupIngress",
          "ec2:RevokeSecurityGroupIngress",
          "ec2:ModifySecurityGroupRules",
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
        ],
        Resource: "*",
        Condition: inRegion,
      },
      {
        Sid: "OwnEnvironmentRolesOnly",
        Effect: "Allow",
        Action: [
          "iam:GetRole",
          "iam:UpdateRole",
          "iam:UpdateAssumeRolePolicy",
          "iam:DeleteRole",
          "iam:TagRole",
          "iam:UntagRole",
          "iam:PutRolePolicy",
          "iam:DeleteRolePolicy",
          "iam:AttachRolePolicy",
          "iam:DetachRolePolicy",
        ],
        Resource: role,
        Condition: { StringEquals: { "iam:ResourceTag/environment": args.environment } },
      },
      {
        Sid: "CreateRolesTaggedWithOwnEnvironment",
        Effect: "Allow",
        Action: ["iam:CreateRole", "iam:TagRole"],
        Resource: role,
        Condition: { StringEquals: { "aws:RequestTag/environment": args.environment } },
      },
      {
        // The create statement's iam:TagRole (tag-on-create) would otherwise let this role re-tag a role of another
        // environment `environment=<env>` and then rewrite its trust or policies: tags of a role that already
        // carries another environment are never changed. (An existing role with no `environment` tag cannot be
        // told apart from one being created; docs/pipeline.md says so.)
        Sid: "NoRetaggingOtherEnvironments",
        Effect: "Deny",
        Action: ["iam:TagRole", "iam:UntagRole"],
        Resource: role,
        Condition: { StringNotEqualsIfExists: { "iam:ResourceTag/environment": args.environment } },
      },
      {
        Sid: "ReadIam",
        Effect: "Allow",
        Action: [
          "iam:GetRolePolicy",
          "iam:ListRolePolicies",
          "iam:ListAttachedRolePolicies",
          "iam:ListInstanceProfilesForRole",
          "iam:GetPolicy",
          "iam:GetPolicyVersion",
          "iam:GetOpenIDConnectProvider",
        ],
        Resource: "*",
      },
      {
        Sid: "PassRolesToEksOnly",
        Effect: "Allow",
        Action: "iam:PassRole",
        Resource: role,
        Condition: { StringEquals: { "iam:PassedToService": passRoleServices } },
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
      {
        Sid: "FoundationIsReadOnly",
        Effect: "Deny",
        NotAction: [
          "ec2:Describe*",
          "ec2:CreateSubnet",
          "ec2:CreateRouteTable",
          "ec2:ModifyVpcEndpoint",
          "ec2:CreateTags",
          "iam:Get*",
          "iam:List*",
          "kms:Describe*",
          "kms:Get*",
          "kms:List*",
          "logs:Describe*",
          "logs:List*",
        ],
        Resource: "*",
        Condition: { StringEquals: { "aws:ResourceTag/layer": "foundation" } },
      },
      {
        // ec2:CreateTags stays usable on foundation resources (above), but never to overwrite `layer`: a resource
        // re-tagged `layer=<anything else>` would fall out of FoundationIsReadOnly.
        Sid: "FoundationLayerTagIsKept",
        Effect: "Deny",
        Action: "ec2:CreateTags",
        Resource: "*",
        Condition: {
          StringEquals: { "aws:ResourceTag/layer": "foundation" },
          "ForAnyValue:StringEquals": { "aws:TagKeys": ["layer"] },
        },
      },
      ...stateStatements(args.state),
    ],
  };
}

export interface FoundationDeployPolicyArgs {
  readonly partition: string;
  readonly accountId: string;
  readonly region: string;
  readonly namePrefix: string;
  readonly state: StateBackend;
}

/**
 * The foundation's own deploy role: the VPC, CodeBuild, KMS and logs in its region, and the roles its name prefix
 * names (the CI roles and runner roles it manages). It is assumed only by the foundation's GitHub environment.
 */
export function foundationDeployPolicy(args: FoundationDeployPolicyArgs): PolicyDocument {
  const prefixed = `arn:${args.partition}:iam::${args.accountId}:role/${args.namePrefix}-*`;
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
        Resource: prefixed,
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
        Sid: "GitHubConnection",
        Effect: "Allow",
        Action: [
          "codeconnections:GetConnection",
          "codeconnections:GetConnectionToken",
          "codeconnections:UseConnection",
          "codestar-connections:GetConnection",
          "codestar-connections:GetConnectionToken",
          "codestar-connections:UseConnection",
        ],
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
