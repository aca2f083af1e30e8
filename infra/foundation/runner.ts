import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { serviceTrustPolicy } from "../identity/trust-policy";
import { withName } from "../tags";
import { runnerRolePolicy } from "./ci-policies";

export interface RunnerArgs {
  /** CodeBuild project name; jobs select it with `codebuild-<project>-${{ github.run_id }}-${{ github.run_attempt }}`. */
  readonly projectName: string;
  readonly roleName: string;
  readonly repository: string;
  readonly connectionArn: string;
  /** Numeric GitHub account ids whose queued jobs may start a build (`github.runnerActorIds`). */
  readonly actorIds: readonly string[];
  readonly vpcId: pulumi.Input<string>;
  /** Private subnets (egress through NAT, no public IPs). */
  readonly subnetIds: pulumi.Input<string>[];
  readonly computeType: string;
  readonly image: string;
  readonly buildTimeoutMinutes: number;
  readonly concurrentBuildLimit: number;
  readonly logRetentionDays: number;
  readonly keyArn: pulumi.Input<string>;
  readonly partition: pulumi.Input<string>;
  readonly accountId: pulumi.Input<string>;
  readonly region: string;
  readonly tags: Readonly<Record<string, string>>;
}

/** The CodeBuild environment type of a curated image: ARM images run on ARM_CONTAINER. */
export function environmentType(image: string): "LINUX_CONTAINER" | "ARM_CONTAINER" {
  return /aarch64|arm/.test(image) ? "ARM_CONTAINER" : "LINUX_CONTAINER";
}

/** A pattern that matches exactly one of `ids` (CodeBuild matches webhook filter patterns as regular expressions). */
export function exactIdPattern(ids: readonly string[]): string {
  if (ids.length === 0 || ids.some((id) => !/^\d+$/.test(id)))
    throw new Error(`GitHub account ids must be digits: ${JSON.stringify(ids)}`);
  return `^(${ids.join("|")})$`;
}

/**
 * Which queued workflow jobs start a runner build: one filter group, all of whose filters must match (AWS CodeBuild
 * user guide, "GitHub webhook events"). EVENT alone would start a build for any job of the repository whose
 * `runs-on` names the label, and a pull request (from a fork too) can write that label into a workflow file it
 * edits. ACTOR_ACCOUNT_ID matches the `sender.id` of the `workflow_job` event, which the pull request cannot choose.
 * The webhook belongs to the project's source repository (no `scopeConfiguration`), so events of other repositories
 * never reach it; REPOSITORY_NAME only works on organization or global webhooks, HEAD_REF and BASE_REF only on push
 * and pull request events, and WORKFLOW_NAME names what the pull request itself can rename.
 */
export function runnerWebhookFilterGroups(
  actorIds: readonly string[],
): aws.types.input.codebuild.WebhookFilterGroup[] {
  return [
    {
      filters: [
        { type: "EVENT", pattern: "WORKFLOW_JOB_QUEUED" },
        { type: "ACTOR_ACCOUNT_ID", pattern: exactIdPattern(actorIds) },
      ],
    },
  ];
}

/**
 * An AWS CodeBuild-hosted GitHub Actions runner for one environment: a CodeBuild project in the foundation's
 * private runner subnets with its own security group, started by a webhook for each workflow job a trusted account
 * queues (`runnerWebhookFilterGroups`). Each build registers one ephemeral runner, runs one job and ends: no standing
 * instance (idle cost $0), no static credentials (GitHub through the CodeConnections connection, AWS by OIDC inside
 * the job).
 */
export class Runner extends pulumi.ComponentResource {
  readonly securityGroupId: pulumi.Output<string>;
  readonly project: aws.codebuild.Project;

  constructor(name: string, args: RunnerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:foundation:Runner", name, {}, opts);
    const parent = { parent: this };

    // No ingress at all; egress 443 only (GitHub, AWS APIs, the cluster endpoint, package registries).
    const securityGroup = new aws.ec2.SecurityGroup(
      name,
      {
        vpcId: args.vpcId,
        description: `GitHub Actions runner ${args.projectName}: no ingress, HTTPS out`,
        tags: withName(args.tags, args.projectName),
      },
      parent,
    );
    new aws.vpc.SecurityGroupEgressRule(
      `${name}-https`,
      {
        securityGroupId: securityGroup.id,
        cidrIpv4: "0.0.0.0/0",
        ipProtocol: "tcp",
        fromPort: 443,
        toPort: 443,
        description: "HTTPS: GitHub, AWS APIs, the cluster API, registries",
        tags: args.tags,
      },
      parent,
    );
    this.securityGroupId = securityGroup.id;

    const logGroup = new aws.cloudwatch.LogGroup(
      name,
      {
        name: `/aws/codebuild/${args.projectName}`,
        retentionInDays: args.logRetentionDays,
        kmsKeyId: args.keyArn,
        tags: args.tags,
      },
      parent,
    );

    const role = new aws.iam.Role(
      name,
      {
        name: args.roleName,
        assumeRolePolicy: serviceTrustPolicy("codebuild.amazonaws.com", false),
        tags: args.tags,
      },
      parent,
    );
    const subnetArns = pulumi
      .all([args.partition, args.accountId, pulumi.all(args.subnetIds)])
      .apply(([partition, accountId, ids]) =>
        ids.map((id) => `arn:${partition}:ec2:${args.region}:${accountId}:subnet/${id}`),
      );
    const policy = new aws.iam.RolePolicy(
      name,
      {
        role: role.id,
        policy: pulumi
          .all([args.partition, args.accountId, logGroup.arn, subnetArns, args.keyArn])
          .apply(([partition, accountId, logGroupArn, arns, keyArn]) =>
            JSON.stringify(
              runnerRolePolicy({
                partition,
                accountId,
                region: args.region,
                logGroupArn,
                connectionArn: args.connectionArn,
                subnetArns: arns,
                keyArn,
              }),
            ),
          ),
      },
      parent,
    );

    this.project = new aws.codebuild.Project(
      name,
      {
        name: args.projectName,
        description: `Ephemeral GitHub Actions runner for ${args.repository} inside the VPC`,
        serviceRole: role.arn,
        source: {
          type: "GITHUB",
          location: `https://github.com/${args.repository}.git`,
          auth: { type: "CODECONNECTIONS", resource: args.connectionArn },
        },
        artifacts: { type: "NO_ARTIFACTS" },
        environment: {
          type: environmentType(args.image),
          computeType: args.computeType,
          image: args.image,
          imagePullCredentialsType: "CODEBUILD",
        },
        vpcConfig: { vpcId: args.vpcId, subnets: args.subnetIds, securityGroupIds: [securityGroup.id] },
        logsConfig: { cloudwatchLogs: { status: "ENABLED", groupName: logGroup.name } },
        encryptionKey: args.keyArn,
        buildTimeout: args.buildTimeoutMinutes,
        concurrentBuildLimit: args.concurrentBuildLimit,
        tags: args.tags,
      },
      // The role must be able to create the build's network interface before CodeBuild validates the VPC.
      { parent: this, dependsOn: [policy] },
    );

    new aws.codebuild.Webhook(
      name,
      {
        projectName: this.project.name,
        buildType: "BUILD",
        filterGroups: runnerWebhookFilterGroups(args.actorIds),
      },
      parent,
    );
    this.registerOutputs({ securityGroupId: this.securityGroupId });
  }
}
