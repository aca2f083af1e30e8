import { isRecord } from "../objects";

/**
 * The contract between the foundation layer (`foundation/`, one stack per AWS account and region) and the stacks
 * built on it (the cluster stacks of this project, and any later fleet stacks). It is the one place that says
 * which stack outputs the foundation exports and how CI resources are named, so the foundation program, the
 * cluster program (through `pulumi.StackReference`) and the pipeline (reading stack files) cannot drift apart.
 *
 * Changing an output name or shape is a breaking change for every consumer: raise `foundationContractVersion`.
 */

/** The foundation project's folder (its Pulumi.yaml and one Pulumi.<stack>.yaml per account and region). */
export const foundationDir = "foundation";
/** `name` in foundation/Pulumi.yaml: the project part of a foundation stack reference. */
export const foundationProject = "eks-gitops-foundation";
/** Raised on any breaking change to `FoundationOutputs`; consumers refuse a version they do not know. */
export const foundationContractVersion = 2;

/** Environments the foundation can serve; a cluster stack's `environment` must be one its foundation serves. */
export const foundationEnvironments = ["dev", "staging", "prod"] as const;
export type FoundationEnvironment = (typeof foundationEnvironments)[number];

/** Kubernetes rights an environment's preview role gets on the clusters of that environment. */
export type PreviewClusterAccess = "admin" | "view";

/** What the foundation provides for one environment: its in-VPC runner and its two CI roles. */
export interface FoundationEnvironmentOutputs {
  /** CodeBuild project of the environment's runner; jobs select it with `runnerLabel(runnerProject)`. */
  readonly runnerProject: string;
  /** Security group of the runner's build containers: the cluster API admits 443 from this group. */
  readonly runnerSecurityGroupId: string;
  /** Role `pulumi up`/`destroy` of this environment's stacks assume (trust: the GitHub environment). */
  readonly deployRoleArn: string;
  /** Role `pulumi preview` of this environment's stacks assumes (trust: pull requests of the repository). */
  readonly previewRoleArn: string;
  readonly previewClusterAccess: PreviewClusterAccess;
  /**
   * Permissions boundary every role of this environment's cluster stacks carries (contract version 2): the deploy
   * role may create and change roles only with it (docs/pipeline.md, "CI identity: trust and permissions").
   */
  readonly roleBoundaryArn: string;
  /** The clusters whose `<cluster>-*` IAM roles this environment's deploy role may create and pass (version 2). */
  readonly clusters: readonly string[];
}

/** Every output of a foundation stack, by output name. */
export interface FoundationOutputs {
  readonly contractVersion: number;
  readonly accountId: string;
  readonly region: string;
  readonly vpcId: string;
  /** The VPC's primary block: public subnets (load balancers, NAT) and the runner subnets. */
  readonly vpcCidr: string;
  /** Secondary VPC blocks, one per cluster: a cluster plans its private (node and pod) subnets inside one. */
  readonly clusterCidrs: readonly string[];
  /** AZs the foundation spans, sorted; `natGatewayIds[i]` serves `availabilityZones[i]`. */
  readonly availabilityZones: readonly string[];
  readonly publicSubnetIds: readonly string[];
  readonly runnerSubnetIds: readonly string[];
  /** Egress per AZ (the same gateway repeated with `natGateways: single`). */
  readonly natGatewayIds: readonly string[];
  /** S3 gateway endpoint; cluster stacks associate their private route tables with it. */
  readonly s3EndpointId: string;
  readonly environments: Readonly<Partial<Record<FoundationEnvironment, FoundationEnvironmentOutputs>>>;
}

export const foundationOutputNames = [
  "contractVersion",
  "accountId",
  "region",
  "vpcId",
  "vpcCidr",
  "clusterCidrs",
  "availabilityZones",
  "publicSubnetIds",
  "runnerSubnetIds",
  "natGatewayIds",
  "s3EndpointId",
  "environments",
] as const satisfies readonly (keyof FoundationOutputs)[];

/** `<organization>/<project>/<stack>`: the name `pulumi.StackReference` takes. */
export function foundationStackReference(organization: string, stack: string): string {
  return `${organization}/${foundationProject}/${stack}`;
}

/** The stack part of a fully qualified reference (`acme/eks-gitops-foundation/eu-west-1` → `eu-west-1`). */
export function stackOfReference(reference: string): string {
  return reference.split("/").pop() as string;
}

export const stackReferencePattern = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;

/** Names of the CI resources a foundation creates, from its `namePrefix` (IAM names are account-wide). */
export function ciNames(namePrefix: string, environment: FoundationEnvironment | "foundation") {
  return {
    deployRole: `${namePrefix}-${environment}-deploy`,
    previewRole: `${namePrefix}-${environment}-preview`,
    runnerProject: `${namePrefix}-${environment}-runner`,
    runnerRole: `${namePrefix}-${environment}-runner`,
    /** Managed policy: the permissions boundary of the roles the environment's cluster stacks create. */
    roleBoundary: `${namePrefix}-${environment}-role-boundary`,
  };
}

/**
 * Tag key naming the permissions boundary a role was created with (value: the boundary's ARN), for people and
 * audits, and for `sts:AssumeRole` in the boundary (a fleet hub's Argo CD assumes only such roles, which must also
 * trust it). Not an ownership proof for the deploy role: IAM authorizes tags given to `CreateRole` as `iam:TagRole`,
 * which cannot tell a new role from an existing one, so ownership is the role name (`<cluster>-*`) and the boundary.
 */
export const roleBoundaryTagKey = "permissions-boundary";

/**
 * First segment of the IAM path of a fleet spoke's hub-access role (`/argocd-fleet/<hub cluster>/`,
 * infra/fleet/contract.ts): the one role of a cluster stack not at the root path (its ARN is `role/<path><name>`), so
 * the deploy role owns `<cluster>-*` at the root and under this path.
 */
export const fleetRolePathRoot = "argocd-fleet";

export function policyArn(partition: string, accountId: string, policyName: string): string {
  return `arn:${partition}:iam::${accountId}:policy/${policyName}`;
}

/** The GitHub environment whose jobs may assume a foundation stack's own deploy role. */
export function foundationGitHubEnvironment(stack: string): string {
  return `foundation-${stack}`;
}

/** The GitHub Actions `runs-on` label of a CodeBuild-hosted runner project (one ephemeral build per job). */
export function runnerLabel(runnerProject: string): string {
  return `codebuild-${runnerProject}-\${{ github.run_id }}-\${{ github.run_attempt }}`;
}

/** The AWS partition of a region (IAM ARNs carry it). */
export function partitionOf(region: string): string {
  if (region.startsWith("us-gov-")) return "aws-us-gov";
  if (region.startsWith("cn-")) return "aws-cn";
  return "aws";
}

export function roleArn(accountId: string, region: string, roleName: string): string {
  return `arn:${partitionOf(region)}:iam::${accountId}:role/${roleName}`;
}

/**
 * Reads a foundation's outputs as `StackReference` returns them. Any missing or malformed output is named, so a
 * stack that was never deployed (no outputs) or one of another contract version fails with what to do.
 */
export function parseFoundationOutputs(raw: Readonly<Record<string, unknown>>): {
  outputs?: FoundationOutputs;
  problems: string[];
} {
  const problems: string[] = [];
  const missing = foundationOutputNames.filter((name) => raw[name] === undefined);
  if (missing.length === foundationOutputNames.length)
    return { problems: ["it has no outputs (it was never deployed, or its last `pulumi up` failed)"] };
  if (missing.length > 0) problems.push(`it lacks the output(s) ${missing.join(", ")}`);
  if (raw.contractVersion !== undefined && raw.contractVersion !== foundationContractVersion)
    problems.push(
      `its contractVersion is ${JSON.stringify(raw.contractVersion)}, this program reads version ${foundationContractVersion}`,
    );
  const strings = ["accountId", "region", "vpcId", "vpcCidr", "s3EndpointId"] as const;
  for (const name of strings)
    if (raw[name] !== undefined && typeof raw[name] !== "string") problems.push(`${name} is not a string`);
  const lists = [
    "clusterCidrs",
    "availabilityZones",
    "publicSubnetIds",
    "runnerSubnetIds",
    "natGatewayIds",
  ] as const;
  for (const name of lists) {
    const value = raw[name];
    if (value !== undefined && !(Array.isArray(value) && value.every((item) => typeof item === "string")))
      problems.push(`${name} is not a list of strings`);
  }
  if (raw.environments !== undefined && !isRecord(raw.environments))
    problems.push("environments is not a map");
  else if (raw.environments !== undefined)
    for (const [environment, outputs] of Object.entries(raw.environments))
      if (!isRecord(outputs) || typeof outputs.roleBoundaryArn !== "string")
        problems.push(`environments.${environment}.roleBoundaryArn is not a string`);
      else if (!(
        Array.isArray(outputs.clusters) && outputs.clusters.every((name) => typeof name === "string")
      ))
        problems.push(`environments.${environment}.clusters is not a list of strings`);
  if (problems.length > 0) return { problems };
  return { outputs: raw as unknown as FoundationOutputs, problems };
}
