import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { PlatformKey } from "../cluster/encryption";
import { ConfigError } from "../config";
import { Network } from "../network";
import { FoundationDestroyGuard } from "./destroy-guard";
import { CiIdentity } from "./ci-identity";
import { FoundationConfig, loadFoundationConfig } from "./config";
import {
  ciNames,
  foundationContractVersion,
  FoundationEnvironment,
  FoundationEnvironmentOutputs,
  FoundationOutputs,
} from "./contract";
import { Runner } from "./runner";

/** Stack outputs as the program returns them: the contract's shape, with values still to resolve. */
export type FoundationProgramOutputs = {
  readonly [K in keyof FoundationOutputs]: pulumi.Input<unknown>;
};

/**
 * The foundation of one AWS account and region: KMS key → VPC (shared by the cluster stacks, one block each) →
 * CI identity (GitHub OIDC, preview and deploy roles) → one in-VPC runner per environment → destroy guard. AWS APIs
 * only, so a laptop or a GitHub-hosted runner applies it. Its outputs are the contract in ./contract.ts.
 */
export async function defineFoundation(
  config: FoundationConfig = loadFoundationConfig(),
): Promise<FoundationProgramOutputs> {
  const caller = await aws.getCallerIdentity();
  if (caller.accountId !== config.accountId)
    throw new ConfigError([
      {
        key: `${config.project}:accountId`,
        value: config.accountId,
        message: `the credentials in use belong to account ${caller.accountId}; switch credentials (AWS_PROFILE) or fix accountId`,
      },
    ]);
  const zones = await aws.getAvailabilityZones({
    state: "available",
    filters: [{ name: "opt-in-status", values: ["opt-in-not-required"] }],
  });
  if (zones.names.length < config.network.availabilityZoneCount)
    throw new ConfigError([
      {
        key: `${config.project}:network.availabilityZoneCount`,
        value: config.network.availabilityZoneCount,
        message: `${config.region} offers only ${zones.names.length} AZs to this account (${zones.names.join(", ")}); the platform needs at least 3 — pick another region`,
      },
    ]);
  const availabilityZones = [...zones.names].sort().slice(0, config.network.availabilityZoneCount);
  const partition = aws.getPartitionOutput().partition;

  const key = new PlatformKey("foundation", {
    clusterName: config.namePrefix,
    region: config.region,
    accountId: config.accountId,
    partition,
    deletionWindowInDays: 30,
    tags: config.tags,
  });
  const network = new Network("vpc", {
    namePrefix: config.namePrefix,
    region: config.region,
    vpcCidr: config.network.vpcCidr,
    clusterCidrs: config.network.clusterCidrs,
    availabilityZones,
    runnerSubnetPrefix: config.network.runnerSubnetPrefix,
    publicSubnetPrefix: config.network.publicSubnetPrefix,
    natGateways: config.network.natGateways,
    flowLogRetentionDays: config.network.flowLogRetentionDays,
    logKeyArn: key.keyArn,
    tags: config.tags,
  });
  const identity = new CiIdentity("ci", {
    namePrefix: config.namePrefix,
    stack: config.stack,
    repository: config.github.repository,
    oidcProviderArn: config.github.oidcProviderArn,
    environments: config.environments.map((environment) => environment.name),
    clusters: Object.fromEntries(
      config.environments.map((environment) => [environment.name, environment.clusters]),
    ),
    partition,
    accountId: config.accountId,
    region: config.region,
    state: config.state,
    tags: config.tags,
  });

  const environments: Partial<Record<FoundationEnvironment, pulumi.Output<FoundationEnvironmentOutputs>>> =
    {};
  const runners: Runner[] = [];
  for (const environment of config.environments) {
    const names = ciNames(config.namePrefix, environment.name);
    const runner = new Runner(`runner-${environment.name}`, {
      projectName: names.runnerProject,
      roleName: names.runnerRole,
      repository: config.github.repository,
      connectionArn: config.github.connectionArn,
      actorIds: config.github.runnerActorIds,
      vpcId: network.vpcId,
      subnetIds: network.runnerSubnetIds,
      computeType: config.runner.computeType,
      image: config.runner.image,
      buildTimeoutMinutes: config.runner.buildTimeoutMinutes,
      concurrentBuildLimit: config.runner.concurrentBuildLimit,
      logRetentionDays: config.runner.logRetentionDays,
      keyArn: key.keyArn,
      partition,
      accountId: config.accountId,
      region: config.region,
      tags: { ...config.tags, "ci-environment": environment.name },
    });
    runners.push(runner);
    const roles = identity.environments[environment.name];
    if (!roles) throw new Error(`no CI roles for ${environment.name}`);
    environments[environment.name] = pulumi
      .all([
        runner.project.name,
        runner.securityGroupId,
        roles.deploy.arn,
        roles.preview.arn,
        roles.roleBoundary.arn,
      ])
      .apply(([runnerProject, runnerSecurityGroupId, deployRoleArn, previewRoleArn, roleBoundaryArn]) => ({
        runnerProject,
        runnerSecurityGroupId,
        deployRoleArn,
        previewRoleArn,
        previewClusterAccess: environment.previewClusterAccess,
        roleBoundaryArn,
        clusters: environment.clusters,
      }));
  }

  // Created last, deleted first: refuses `pulumi destroy` while cluster stacks still have subnets in the VPC.
  new FoundationDestroyGuard("destroy-guard", {
    region: config.region,
    vpcId: network.vpcId,
    ownSubnetIds: [...network.publicSubnetIds, ...network.runnerSubnetIds],
    dependsOn: [network, identity, ...runners],
  });

  return {
    contractVersion: foundationContractVersion,
    accountId: config.accountId,
    region: config.region,
    vpcId: network.vpcId,
    vpcCidr: config.network.vpcCidr,
    clusterCidrs: config.network.clusterCidrs,
    availabilityZones,
    publicSubnetIds: network.publicSubnetIds,
    runnerSubnetIds: network.runnerSubnetIds,
    natGatewayIds: network.natGatewayIds,
    s3EndpointId: network.s3EndpointId,
    environments,
  };
}
