import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { foundationStackReference } from "../foundation/contract";
import { valueAt } from "../objects";
import { awsRegionPattern } from "./patterns";
import { clusterNamePattern, clusterNameRule, platformSchema, RawPlatformConfig } from "./schema";

export { newestKubernetesVersion, kubernetesVersions } from "./kubernetes-versions";

export type Environment = RawPlatformConfig["environment"];
export type ComputeMode = RawPlatformConfig["compute"]["mode"];

/** The validated stack configuration with every environment-dependent default resolved. */
export interface PlatformConfig extends Omit<
  RawPlatformConfig,
  "network" | "cluster" | "gitops" | "foundation"
> {
  readonly project: string;
  readonly stack: string;
  readonly region: string;
  readonly network: Omit<
    RawPlatformConfig["network"],
    "publicSubnetPrefix" | "natGateways" | "flowLogRetentionDays"
  >;
  readonly cluster: RawPlatformConfig["cluster"] & {
    readonly name: string;
    readonly logRetentionDays: number;
    readonly deletionProtection: boolean;
  };
  readonly gitops: RawPlatformConfig["gitops"] & { readonly highAvailability: boolean };
  /** The foundation stack reference, defaulted to `<this stack's organization>/eks-gitops-foundation/<region>`. */
  readonly foundation: { readonly stack: string };
}

/** One rejected config value: which key, what was given, and what to write instead. */
export interface ConfigProblem {
  readonly key: string;
  readonly value: unknown;
  readonly message: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly ConfigProblem[]) {
    super(
      `Stack configuration is invalid (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
        problems
          .map((problem) => `  - ${problem.key} = ${JSON.stringify(problem.value)}: ${problem.message}`)
          .join("\n"),
    );
    this.name = "ConfigError";
  }
}

/** Defaults that differ by environment: dev cheap and short-lived, prod hardened. */
const environmentDefaults = {
  dev: { logRetentionDays: 7, deletionProtection: false, highAvailability: false },
  staging: {
    logRetentionDays: 30,
    deletionProtection: false,
    highAvailability: false,
  },
  prod: { logRetentionDays: 365, deletionProtection: true, highAvailability: true },
} as const;

/**
 * Validates raw stack config (the values of `Pulumi.<stack>.yaml`, keys without the project prefix) and resolves
 * defaults. Pure: the same input gives the same config or the same list of problems.
 */
export function resolvePlatformConfig(
  raw: Record<string, unknown>,
  context: { project: string; stack: string; region: string | undefined; organization?: string },
): PlatformConfig {
  const problems: ConfigProblem[] = [];
  if (context.region === undefined || !awsRegionPattern.test(context.region)) {
    problems.push({
      key: "aws:region",
      value: context.region ?? null,
      message:
        "must be an AWS region such as eu-west-1; set it with `pulumi config set aws:region eu-west-1`",
    });
  }
  const parsed = platformSchema.safeParse(raw);
  if (!parsed.success) {
    problems.push(...parsed.error.issues.flatMap((issue) => toProblems(issue, raw, context.project)));
  }
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);

  const config = parsed.data;
  const defaults = environmentDefaults[config.environment];
  const clusterName = config.cluster.name ?? `${context.project.replace(/^eks-/, "")}-${context.stack}`;
  const highAvailability = config.gitops.highAvailability ?? defaults.highAvailability;
  if (!clusterNamePattern.test(clusterName)) {
    problems.push({
      key: `${context.project}:cluster.name`,
      value: clusterName,
      message: `(derived from project and stack) ${clusterNameRule}; set cluster.name explicitly`,
    });
  }
  if (highAvailability && config.compute.mode === "karpenter" && config.compute.systemNodeGroup.minSize < 3) {
    // Argo CD's redis-ha spreads 3 replicas over 3 nodes, and before Argo CD installs Karpenter the system node
    // group is all there is: with fewer nodes the bootstrap release never becomes ready.
    problems.push({
      key: `${context.project}:compute.systemNodeGroup.minSize`,
      value: config.compute.systemNodeGroup.minSize,
      message:
        "HA Argo CD (gitops.highAvailability) needs 3 nodes for redis-ha before Karpenter exists; set minSize: 3 (and maxSize ≥ 3), or gitops.highAvailability: false",
    });
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    ...config,
    project: context.project,
    stack: context.stack,
    region: context.region as string,
    tags: {
      ...config.tags,
      project: context.project,
      stack: context.stack,
      environment: config.environment,
      owner: config.owner,
      "managed-by": "pulumi",
      ...(config.expiresOn ? { "expires-on": config.expiresOn } : {}),
    },
    network: {
      vpcCidr: config.network.vpcCidr,
      availabilityZoneCount: config.network.availabilityZoneCount,
      privateSubnetPrefix: config.network.privateSubnetPrefix,
    },
    cluster: {
      ...config.cluster,
      name: clusterName,
      logRetentionDays: config.cluster.logRetentionDays ?? defaults.logRetentionDays,
      deletionProtection: config.cluster.deletionProtection ?? defaults.deletionProtection,
    },
    gitops: {
      ...config.gitops,
      highAvailability,
    },
    foundation: {
      stack:
        config.foundation.stack ??
        foundationStackReference(context.organization ?? "organization", context.region as string),
    },
  };
}

/** One problem per zod issue; an issue about unknown keys becomes one problem per key. */
function toProblems(issue: z.core.$ZodIssue, raw: Record<string, unknown>, project: string): ConfigProblem[] {
  const problem = (path: readonly PropertyKey[], message: string): ConfigProblem => ({
    key: `${project}:${path.map(String).join(".")}`,
    value: valueAt(raw, path) ?? null,
    message,
  });
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((unknownKey) =>
      problem(
        [...issue.path, unknownKey],
        "unknown config key (a typo?); see the README's config reference for the keys this project reads",
      ),
    );
  }
  return [problem(issue.path, issue.message)];
}

/** This project's keys of a full stack config (`<project>:<key>` → value), without the prefix. */
export function projectConfigValues(
  all: Readonly<Record<string, unknown>>,
  project: string,
): Record<string, unknown> {
  const prefix = `${project}:`;
  return Object.fromEntries(
    Object.entries(all)
      .filter(([key]) => key.startsWith(prefix))
      .map(([key, value]) => [key.slice(prefix.length), value]),
  );
}

/** Reads this project's keys from the Pulumi config of the running stack (CLI or mocks) and validates them. */
export function loadPlatformConfig(): PlatformConfig {
  const project = pulumi.getProject();
  const values = projectConfigValues(pulumi.runtime.allConfig(), project);
  const raw = Object.fromEntries(
    Object.entries(values).map(([key, value]) => [key, parseConfigValue(String(value))]),
  );
  return resolvePlatformConfig(raw, {
    project,
    stack: pulumi.getStack(),
    region: new pulumi.Config("aws").get("region"),
    organization: pulumi.getOrganization(),
  });
}

/** Pulumi hands structured values over as JSON text and scalars as plain strings. */
function parseConfigValue(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}
