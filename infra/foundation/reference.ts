import * as pulumi from "@pulumi/pulumi";
import { ConfigError, ConfigProblem, PlatformConfig } from "../config";
import { cidrsOverlap } from "../config/cidr";
import {
  FoundationEnvironment,
  FoundationEnvironmentOutputs,
  foundationOutputNames,
  FoundationOutputs,
  parseFoundationOutputs,
  stackOfReference,
} from "./contract";

/** What a cluster stack takes from its foundation: the VPC, its own block's AZs and egress, its environment's CI. */
export interface ClusterFoundation {
  readonly outputs: FoundationOutputs;
  readonly environment: FoundationEnvironmentOutputs;
  /** The first `network.availabilityZoneCount` AZs of the foundation, and their NAT gateways. */
  readonly availabilityZones: readonly string[];
  readonly natGatewayIds: readonly string[];
}

/**
 * Checks a foundation's outputs against the cluster stack that builds on it. Pure: every problem names the key to
 * change (in the cluster stack file, or in the foundation's) and how.
 */
export function checkFoundation(
  outputs: FoundationOutputs,
  config: PlatformConfig,
  callerAccountId: string,
): ConfigProblem[] {
  const key = (path: string) => `${config.project}:${path}`;
  const foundationFile = `foundation/Pulumi.${stackOfReference(config.foundation.stack)}.yaml`;
  const problems: ConfigProblem[] = [];
  if (outputs.region !== config.region)
    problems.push({
      key: "aws:region",
      value: config.region,
      message: `the foundation ${config.foundation.stack} is in ${outputs.region}; a cluster lives in its foundation's region: point ${key("foundation.stack")} at a foundation in ${config.region}, or change aws:region`,
    });
  if (outputs.accountId !== callerAccountId)
    problems.push({
      key: key("foundation.stack"),
      value: config.foundation.stack,
      message: `that foundation is in account ${outputs.accountId}, but these credentials are for account ${callerAccountId}; use the foundation of this account (or the other account's credentials)`,
    });
  const block = config.network.vpcCidr;
  if (!outputs.clusterCidrs.includes(block)) {
    const overlapping = [outputs.vpcCidr, ...outputs.clusterCidrs].filter((candidate) =>
      cidrsOverlap(candidate, block),
    );
    problems.push({
      key: key("network.vpcCidr"),
      value: block,
      message:
        `is not one of the foundation's cluster blocks (${outputs.clusterCidrs.join(", ")})` +
        (overlapping.length > 0 ? ` and overlaps ${overlapping.join(", ")}` : "") +
        `: each cluster takes one whole block; use a free one, or add ${block} to eks-gitops-foundation:network.clusterCidrs in ${foundationFile} and deploy the foundation first`,
    });
  }
  if (config.network.availabilityZoneCount > outputs.availabilityZones.length)
    problems.push({
      key: key("network.availabilityZoneCount"),
      value: config.network.availabilityZoneCount,
      message: `the foundation spans ${outputs.availabilityZones.length} AZs (${outputs.availabilityZones.join(", ")}); use at most that many, or raise eks-gitops-foundation:network.availabilityZoneCount in ${foundationFile}`,
    });
  const environment = config.environment as FoundationEnvironment;
  if (!outputs.environments[environment])
    problems.push({
      key: key("environment"),
      value: config.environment,
      message: `the foundation has no runner and no CI roles for ${environment} (it serves ${Object.keys(outputs.environments).join(", ") || "none"}); add \`${environment}: {}\` under eks-gitops-foundation:environments in ${foundationFile} and deploy the foundation first`,
    });
  else if (!outputs.environments[environment]?.clusters.includes(config.cluster.name))
    problems.push({
      key: key("cluster.name"),
      value: config.cluster.name,
      message: `the foundation's ${environment} deploy role may create and pass only the IAM roles of the clusters listed in eks-gitops-foundation:environments.${environment}.clusters (${outputs.environments[environment]?.clusters.join(", ") || "none"}); add ${config.cluster.name} there in ${foundationFile} and deploy the foundation first`,
    });
  return problems;
}

/**
 * Reads the cluster stack's foundation through `pulumi.StackReference` and checks it before any resource is
 * declared, so a wrong reference never leaves a half-built stack.
 */
export async function readFoundation(
  config: PlatformConfig,
  callerAccountId: string,
): Promise<ClusterFoundation> {
  const stackKey = `${config.project}:foundation.stack`;
  const reference = new pulumi.StackReference("foundation", { name: config.foundation.stack });
  let raw: Record<string, unknown>;
  try {
    const values = await Promise.all(
      foundationOutputNames.map(
        async (name) => [name, (await reference.getOutputDetails(name)).value] as const,
      ),
    );
    raw = Object.fromEntries(values.filter(([, value]) => value !== undefined));
  } catch (error) {
    throw new ConfigError([
      {
        key: stackKey,
        value: config.foundation.stack,
        message: `cannot read that foundation stack (${(error as Error).message.split("\n")[0]}): it does not exist, or this backend and organization cannot see it; deploy the foundation first (README, day one), or set ${stackKey} to <organization>/eks-gitops-foundation/<stack>`,
      },
    ]);
  }
  const parsed = parseFoundationOutputs(raw);
  if (!parsed.outputs)
    throw new ConfigError(
      parsed.problems.map((problem) => ({
        key: stackKey,
        value: config.foundation.stack,
        message: `${problem}; run \`pulumi up\` of that foundation stack (in foundation/) first`,
      })),
    );
  const problems = checkFoundation(parsed.outputs, config, callerAccountId);
  if (problems.length > 0) throw new ConfigError(problems);
  const outputs = parsed.outputs;
  const count = config.network.availabilityZoneCount;
  return {
    outputs,
    environment: outputs.environments[
      config.environment as FoundationEnvironment
    ] as FoundationEnvironmentOutputs,
    availabilityZones: outputs.availabilityZones.slice(0, count),
    natGatewayIds: outputs.natGatewayIds.slice(0, count),
  };
}
