import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { ConfigError, ConfigProblem, projectConfigValues } from "../config";
import { awsRegionPattern } from "../config/patterns";
import { clusterNamePattern, clusterNameRule } from "../config/schema";
import { addressesNeeded, cidrsOverlap, parseCidr } from "../config/cidr";
import { valueAt } from "../objects";
import { foundationEnvironments, FoundationEnvironment, PreviewClusterAccess } from "./contract";

/**
 * Stack config of a foundation stack (`foundation/Pulumi.<stack>.yaml`, keys under `eks-gitops-foundation:`).
 * Every key is documented in docs/pipeline.md ("Foundation config"); unknown keys are errors.
 */

const logRetentionChoices = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827];

const cidr = z.string().superRefine((value, ctx) => {
  try {
    parseCidr(value);
  } catch (error) {
    ctx.addIssue({ code: "custom", message: (error as Error).message });
  }
});

/** The most GitHub accounts a foundation lets start runner builds: they become one regular expression in the webhook. */
export const maxRunnerActors = 50;

/**
 * The numeric GitHub account ids (not logins: a login can be renamed and reused) whose queued jobs may start an
 * in-VPC runner build. The runners' webhooks admit no other sender: a fork or any other account that queues a job
 * naming a runner label gets no build. Numbers or digit strings in the stack file; strings after parsing.
 */
const runnerActorIds = z
  .array(
    z.union([z.number(), z.string()]).transform((id, ctx) => {
      const text = String(id);
      if (!/^[1-9]\d{0,11}$/.test(text))
        ctx.addIssue({
          code: "custom",
          message:
            "must be a numeric GitHub account id (not a login): `gh api users/<login> --jq .id` prints it",
        });
      return text;
    }),
    {
      message:
        "list the numeric GitHub account ids allowed to start runner builds, e.g. [12345678]: `gh api users/<login> --jq .id`",
    },
  )
  .min(
    1,
    "list at least one GitHub account id: without one the runners' webhooks start no build (`gh api users/<login> --jq .id`)",
  )
  .max(
    maxRunnerActors,
    `at most ${maxRunnerActors} accounts: the runners are for the people who merge and review, not every contributor`,
  )
  .refine((ids) => new Set(ids).size === ids.length, { message: "lists an account id twice" });

const environmentSchema = z.strictObject({
  previewClusterAccess: z
    .enum(["admin", "view"], {
      message:
        '"admin" (previews can dry-run new in-cluster objects; PR code acts as cluster admin) or "view" (no write RBAC)',
    })
    .optional(),
  /**
   * The clusters (`cluster.name` of the cluster stacks) this environment deploys: its deploy role creates, changes
   * and passes only IAM roles named `<cluster>-*`, under the environment's permissions boundary.
   */
  clusters: z
    .array(z.string().regex(clusterNamePattern, clusterNameRule))
    .refine((names) => new Set(names).size === names.length, { message: "lists a cluster twice" })
    .default([]),
});

export const foundationSchema = z.strictObject({
  accountId: z
    .string()
    .regex(
      /^\d{12}$/,
      'must be the 12-digit AWS account id this foundation lives in, quoted: "123456789012"',
    ),
  namePrefix: z
    .string()
    .regex(
      /^[a-z][a-z0-9-]{0,30}[a-z0-9]$/,
      "2–32 lowercase letters, digits and hyphens: IAM role and CodeBuild project names start with it",
    )
    .optional(),
  owner: z.string().min(1).default("platform-team"),
  tags: z.record(z.string(), z.string()).default({}),
  github: z.strictObject({
    repository: z
      .string()
      .regex(
        /^[A-Za-z0-9-]+\/[A-Za-z0-9._-]+$/,
        "must be <owner>/<repo> of the repository whose workflows deploy, e.g. acme/eks-gitops-platform",
      ),
    oidcProviderArn: z
      .string()
      .regex(
        /^arn:aws[a-z-]*:iam::\d{12}:oidc-provider\/token\.actions\.githubusercontent\.com$/,
        "must be the ARN of the account's existing GitHub OIDC provider, arn:aws:iam::<account>:oidc-provider/token.actions.githubusercontent.com",
      )
      .optional(),
    connectionArn: z
      .string()
      .regex(
        /^arn:aws[a-z-]*:(codeconnections|codestar-connections):[a-z0-9-]+:\d{12}:connection\/[0-9a-f-]{36}$/,
        "must be the ARN of a CodeConnections GitHub connection (created and approved once in the console: Developer Tools → Settings → Connections)",
      ),
    runnerActorIds: runnerActorIds,
  }),
  network: z
    .strictObject({
      vpcCidr: cidr.default("10.0.0.0/20"),
      clusterCidrs: z
        .array(cidr)
        .min(1, "list one block per cluster stack this foundation serves, e.g. [10.40.0.0/16]")
        .max(
          4,
          "a VPC holds 5 IPv4 blocks by default (the primary and 4 more); ask AWS for a quota raise first",
        )
        .default(["10.40.0.0/16"]),
      availabilityZoneCount: z
        .number()
        .int()
        .min(3, "at least 3 AZs so that losing one leaves a quorum of capacity; use 3")
        .max(6)
        .default(3),
      publicSubnetPrefix: z.number().int().min(20).max(27, "an ALB needs at least a /27; use 24").default(24),
      runnerSubnetPrefix: z
        .number()
        .int()
        .min(20)
        .max(26, "each concurrent runner build takes one IP; use 22")
        .default(22),
      natGateways: z.enum(["single", "perAz"]).default("perAz"),
      flowLogRetentionDays: z
        .number()
        .refine((days) => logRetentionChoices.includes(days), {
          message: `is not a CloudWatch Logs retention period; use one of ${logRetentionChoices.join(", ")}`,
        })
        .default(365),
    })
    .default({
      vpcCidr: "10.0.0.0/20",
      clusterCidrs: ["10.40.0.0/16"],
      availabilityZoneCount: 3,
      publicSubnetPrefix: 24,
      runnerSubnetPrefix: 22,
      natGateways: "perAz",
      flowLogRetentionDays: 365,
    }),
  environments: z
    .partialRecord(z.enum(foundationEnvironments), environmentSchema)
    .refine((environments) => Object.keys(environments).length > 0, {
      message: "list at least one environment (dev, staging, prod) this foundation serves",
    }),
  runner: z
    .strictObject({
      computeType: z
        .enum(["BUILD_GENERAL1_SMALL", "BUILD_GENERAL1_MEDIUM", "BUILD_GENERAL1_LARGE"])
        .default("BUILD_GENERAL1_MEDIUM"),
      image: z.string().min(1).default("aws/codebuild/amazonlinux-x86_64-standard:5.0"),
      buildTimeoutMinutes: z.number().int().min(5).max(480).default(120),
      concurrentBuildLimit: z.number().int().min(1).max(50).default(4),
      logRetentionDays: z
        .number()
        .refine((days) => logRetentionChoices.includes(days), {
          message: `is not a CloudWatch Logs retention period; use one of ${logRetentionChoices.join(", ")}`,
        })
        .default(365),
    })
    .default({
      computeType: "BUILD_GENERAL1_MEDIUM",
      image: "aws/codebuild/amazonlinux-x86_64-standard:5.0",
      buildTimeoutMinutes: 120,
      concurrentBuildLimit: 4,
      logRetentionDays: 365,
    }),
  state: z
    .strictObject({
      bucketArn: z
        .string()
        .regex(
          /^arn:aws[a-z-]*:s3:::[a-z0-9.-]{3,63}$/,
          "must be an S3 bucket ARN, arn:aws:s3:::my-state-bucket",
        )
        .optional(),
      kmsKeyArn: z
        .string()
        .regex(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[0-9a-f-]+$/, "must be a KMS key ARN")
        .optional(),
    })
    .default({}),
});

type RawFoundationConfig = z.output<typeof foundationSchema>;

export interface FoundationEnvironmentConfig {
  readonly name: FoundationEnvironment;
  readonly previewClusterAccess: PreviewClusterAccess;
  /** Cluster names whose `<cluster>-*` roles the environment's deploy role owns. */
  readonly clusters: readonly string[];
}

export interface FoundationConfig extends Omit<RawFoundationConfig, "environments" | "namePrefix"> {
  readonly project: string;
  readonly stack: string;
  readonly region: string;
  readonly namePrefix: string;
  /** In the order of `foundationEnvironments`. */
  readonly environments: readonly FoundationEnvironmentConfig[];
}

/**
 * Each cluster's roles (`<cluster>-*`) belong to one environment: a cluster listed twice, or one whose name plus
 * "-" begins another environment's cluster name (`platform-dev` would own `platform-dev-2-node`), would let one
 * environment's deploy role pass or change another's roles.
 */
function clusterOwnershipProblems(
  environments: RawFoundationConfig["environments"],
  key: (path: string) => string,
): ConfigProblem[] {
  const owners = Object.entries(environments).flatMap(([environment, settings]) =>
    (settings?.clusters ?? []).map((cluster, index) => ({ environment, cluster, index })),
  );
  return owners.flatMap((owner) => {
    const other = owners.find(
      (candidate) =>
        candidate.environment !== owner.environment &&
        (candidate.cluster === owner.cluster || candidate.cluster.startsWith(`${owner.cluster}-`)),
    );
    return other
      ? [
          {
            key: key(`environments.${owner.environment}.clusters.${owner.index}`),
            value: owner.cluster,
            message: `its roles (${owner.cluster}-*) would include those of ${other.cluster} in ${other.environment}; a cluster belongs to one environment, and no cluster name may begin with another environment's cluster name followed by "-"`,
          },
        ]
      : [];
  });
}

/** prod previews get no write RBAC unless the stack says otherwise; dev and staging previews can dry-run. */
export function defaultPreviewClusterAccess(environment: FoundationEnvironment): PreviewClusterAccess {
  return environment === "prod" ? "view" : "admin";
}

/** The RFC 1918 range a block lies in: AWS refuses secondary VPC blocks from another range than the primary's. */
function privateRange(block: string): string | undefined {
  return ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"].find((range) => cidrsOverlap(range, block));
}

/**
 * Validates a foundation stack's raw config (keys without the project prefix) and resolves defaults. Pure, so the
 * pipeline reads foundation stack files with exactly the rules the foundation program applies.
 */
export function resolveFoundationConfig(
  raw: Record<string, unknown>,
  context: { project: string; stack: string; region: string | undefined },
): FoundationConfig {
  const problems: ConfigProblem[] = [];
  const key = (path: string) => `${context.project}:${path}`;
  if (context.region === undefined || !awsRegionPattern.test(context.region)) {
    problems.push({
      key: "aws:region",
      value: context.region ?? null,
      message: "must be an AWS region such as eu-west-1; set it in the foundation stack file",
    });
  }
  const parsed = foundationSchema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const paths =
        issue.code === "unrecognized_keys"
          ? issue.keys.map((unknown) => [...issue.path, unknown])
          : [issue.path];
      for (const path of paths)
        problems.push({
          key: key(path.map(String).join(".")),
          value: valueAt(raw, path) ?? null,
          message:
            issue.code === "unrecognized_keys"
              ? "unknown config key (a typo?); see docs/pipeline.md, Foundation config"
              : issue.message,
        });
    }
    throw new ConfigError(problems);
  }
  const config = parsed.data;
  const network = config.network;
  const blocks = [network.vpcCidr, ...network.clusterCidrs];
  blocks.forEach((block, index) => {
    const other = blocks.findIndex((candidate, at) => at < index && cidrsOverlap(candidate, block));
    if (other >= 0)
      problems.push({
        key: key(index === 0 ? "network.vpcCidr" : `network.clusterCidrs.${index - 1}`),
        value: block,
        message: `overlaps ${blocks[other]}; every VPC block (the primary and one per cluster) must be disjoint`,
      });
    const prefix = parseCidr(block).prefix;
    if (prefix < 16 || prefix > 28)
      problems.push({
        key: key(index === 0 ? "network.vpcCidr" : `network.clusterCidrs.${index - 1}`),
        value: block,
        message: "a VPC CIDR block must be between /16 and /28",
      });
    if (index > 0 && privateRange(block) !== privateRange(network.vpcCidr))
      problems.push({
        key: key(`network.clusterCidrs.${index - 1}`),
        value: block,
        message: `lies in another RFC 1918 range than vpcCidr ${network.vpcCidr}; AWS refuses such secondary blocks, pick one in ${privateRange(network.vpcCidr) ?? "the primary's range"}`,
      });
  });
  const zones = Array.from({ length: network.availabilityZoneCount }, (_, index) => String(index));
  const needed = addressesNeeded({
    availabilityZones: zones,
    privatePrefix: network.runnerSubnetPrefix,
    publicPrefix: network.publicSubnetPrefix,
  });
  const available = 1n << BigInt(32 - parseCidr(network.vpcCidr).prefix);
  if (needed > available || network.runnerSubnetPrefix > network.publicSubnetPrefix)
    problems.push({
      key: key("network.vpcCidr"),
      value: network.vpcCidr,
      message: `holds ${available} addresses but ${zones.length} runner /${network.runnerSubnetPrefix} and ${zones.length} public /${network.publicSubnetPrefix} subnets need ${needed} (runner subnets at least as large as public ones); use a /20 or smaller subnets`,
    });
  problems.push(...clusterOwnershipProblems(config.environments, key));
  if (problems.length > 0) throw new ConfigError(problems);

  const namePrefix = config.namePrefix ?? `platform-${context.stack}`;
  if (!/^[a-z][a-z0-9-]{0,30}[a-z0-9]$/.test(namePrefix))
    throw new ConfigError([
      {
        key: key("namePrefix"),
        value: namePrefix,
        message:
          "(derived from the stack name) must be 2–32 lowercase letters, digits and hyphens; set namePrefix",
      },
    ]);
  return {
    ...config,
    project: context.project,
    stack: context.stack,
    region: context.region as string,
    namePrefix,
    tags: {
      ...config.tags,
      project: context.project,
      stack: context.stack,
      layer: "foundation",
      owner: config.owner,
      "managed-by": "pulumi",
    },
    environments: foundationEnvironments
      .filter((name) => config.environments[name] !== undefined)
      .map((name) => ({
        name,
        previewClusterAccess:
          config.environments[name]?.previewClusterAccess ?? defaultPreviewClusterAccess(name),
        clusters: config.environments[name]?.clusters ?? [],
      })),
  };
}

/** Reads the running foundation stack's config (CLI or mocks) and validates it. */
export function loadFoundationConfig(): FoundationConfig {
  const project = pulumi.getProject();
  const values = projectConfigValues(pulumi.runtime.allConfig(), project);
  // Structured values arrive as JSON text; scalars stay strings (an account id keeps its leading zeros).
  const raw = Object.fromEntries(
    Object.entries(values).map(([name, value]) => [
      name,
      typeof value === "string" && /^[[{]/.test(value) ? JSON.parse(value) : value,
    ]),
  );
  return resolveFoundationConfig(raw, {
    project,
    stack: pulumi.getStack(),
    region: new pulumi.Config("aws").get("region"),
  });
}
