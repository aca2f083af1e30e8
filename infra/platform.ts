import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { loadPlatformConfig, PlatformConfig } from "./config";
import { Cluster } from "./cluster";
import { PlatformKey } from "./cluster/encryption";
import { fleetOf } from "./config/fleet";
import { ClusterFacts } from "./facts";
import {
  FleetHub,
  HubAccess,
  hubOutputs,
  readFleetHub,
  readFleetSpokes,
  spokeOutputs,
  thisStackReference,
} from "./fleet";
import { GitOps } from "./gitops";
import { applicationsKeptOnTeardown, argocdNamespace } from "./gitops/argocd";
import { ClusterAccess } from "./identity";
import { boundEveryRole } from "./identity/role-boundary";
import { renderKubeconfig, updateKubeconfigCommand } from "./kubeconfig";
import { readFoundation } from "./foundation/reference";
import { ClusterSubnets } from "./network";
import { FleetSpokeGuard, SpokeDrain } from "./fleet/component";
import { OrderedTeardown } from "./teardown/component";

/** What `pulumi stack output` shows; the kubeconfig is a secret output. */
export interface PlatformOutputs {
  readonly clusterName: pulumi.Output<string>;
  readonly clusterEndpoint: pulumi.Output<string>;
  readonly region: string;
  readonly computeMode: string;
  readonly kubernetesVersion: string;
  readonly updateKubeconfigCommand: pulumi.Output<string>;
  readonly kubeconfig: pulumi.Output<string>;
  readonly vpcId: pulumi.Output<string>;
  readonly privateSubnetIds: pulumi.Output<string>[];
  readonly publicSubnetIds: pulumi.Output<string>[];
  readonly kmsKeyArn: pulumi.Output<string>;
  /** Read back from state by the expire workflow: a stack whose live environment is not dev is never expired. */
  readonly environment: string;
  readonly expiresOn: string | undefined;
  /** fleet.role hub / spoke only (docs/gitops.md, Fleet): what the other side reads through a StackReference. */
  readonly fleetHub?: pulumi.Output<unknown>;
  readonly fleetSpokes?: readonly string[];
  readonly fleetSpoke?: pulumi.Output<unknown>;
}

/**
 * The whole platform: config → foundation (StackReference) → KMS key → subnets → cluster → access → GitOps. Config
 * is validated and the foundation read and checked before the first resource is declared, so a bad value never
 * leaves a half-built stack.
 */
export async function definePlatform(
  config: PlatformConfig = loadPlatformConfig(),
): Promise<PlatformOutputs> {
  const caller = aws.getCallerIdentityOutput();
  const partition = aws.getPartitionOutput().partition;
  // The VPC, egress, runner and CI roles come from the foundation stack, read and checked before any resource.
  const foundation = await readFoundation(config, (await aws.getCallerIdentity()).accountId);
  // The other side of the fleet too: a missing hub or spoke leaves nothing half-built.
  const fleet = fleetOf(config);
  const hub = fleet.role === "spoke" ? await readFleetHub(config) : undefined;
  const spokes = fleet.role === "hub" ? await readFleetSpokes(config) : [];
  // Before the first role: the deploy role creates roles only with the environment's permissions boundary.
  boundEveryRole(foundation.environment.roleBoundaryArn);

  const key = new PlatformKey("platform", {
    clusterName: config.cluster.name,
    region: config.region,
    accountId: caller.accountId,
    partition,
    deletionWindowInDays: config.cluster.kmsDeletionWindowDays,
    tags: config.tags,
  });

  const network = new ClusterSubnets("subnets", {
    clusterName: config.cluster.name,
    vpcId: foundation.outputs.vpcId,
    cidrBlock: config.network.vpcCidr,
    availabilityZones: foundation.availabilityZones,
    privateSubnetPrefix: config.network.privateSubnetPrefix,
    natGatewayIds: foundation.natGatewayIds,
    s3EndpointId: foundation.outputs.s3EndpointId,
    tags: config.tags,
  });

  const cluster = new Cluster(config.cluster.name, {
    clusterName: config.cluster.name,
    kubernetesVersion: config.cluster.kubernetesVersion,
    supportType: config.cluster.supportType,
    computeMode: config.compute.mode,
    partition,
    subnetIds: network.subnetIds,
    networkReady: network.egress,
    publicAccessCidrs: config.cluster.publicAccessCidrs,
    privateAccessCidrs: config.cluster.privateAccessCidrs,
    apiSourceSecurityGroups: [
      {
        id: foundation.environment.runnerSecurityGroupId,
        description: `the ${config.environment} runner (${foundation.environment.runnerProject})`,
      },
    ],
    keyArn: key.keyArn,
    logRetentionDays: config.cluster.logRetentionDays,
    deletionProtection: config.cluster.deletionProtection,
    systemNodeGroup: config.compute.systemNodeGroup,
    ciliumReplacesVpcCni: config.addons.cilium,
    fargateProfiles: config.compute.fargateProfiles,
    region: config.region,
    accountId: caller.accountId,
    tags: config.tags,
  });

  const access = new ClusterAccess(
    "access",
    {
      clusterName: cluster.cluster.name,
      partition,
      access: {
        ...config.access,
        pipeline: {
          deployRoleArn: foundation.environment.deployRoleArn,
          previewRoleArn: foundation.environment.previewRoleArn,
          previewAccess: foundation.environment.previewClusterAccess,
        },
      },
      tags: config.tags,
    },
    { dependsOn: [cluster.cluster] },
  );

  const eks = cluster.cluster;
  const kubeconfig = pulumi.secret(
    pulumi
      .all([eks.name, eks.endpoint, eks.certificateAuthority.data])
      .apply(([clusterName, endpoint, certificateAuthorityData]) =>
        renderKubeconfig({ clusterName, endpoint, certificateAuthorityData, region: config.region }),
      ),
  );

  const facts: ClusterFacts = {
    config,
    accountId: caller.accountId,
    partition,
    clusterName: eks.name,
    clusterArn: eks.arn,
    endpoint: eks.endpoint,
    certificateAuthorityData: eks.certificateAuthority.data,
    kubeconfig,
    vpcId: pulumi.output(foundation.outputs.vpcId),
    privateSubnetIds: network.subnetIds,
    clusterSecurityGroupId: eks.vpcConfig.clusterSecurityGroupId,
    nodeRoleName: cluster.nodeRole.name,
    nodeRoleArn: cluster.nodeRole.arn,
    cluster: eks,
    apiAccess: access.associations,
    readiness: [...access.associations, ...cluster.readiness],
  };
  const gitops = new GitOps("gitops", { cluster: facts });
  let fleetOutputs: Partial<PlatformOutputs> = {};
  let hubAccess: HubAccess | undefined;
  if (hub) {
    const access = new HubAccess("fleet-hub-access", { facts, hub });
    hubAccess = access;
    fleetOutputs = {
      fleetSpoke: spokeOutputs(facts, fleet.hub as string, gitops.labels, gitops.annotations, access),
    };
  } else if (fleet.role === "hub") {
    const fleetHub = new FleetHub("fleet", {
      facts,
      spokes,
      provider: gitops.provider,
      argocdReady: gitops.argocdReady,
      capabilityRoleArn: gitops.capabilityRoleArn,
    });
    fleetOutputs = { fleetHub: hubOutputs(facts, fleetHub.principalArn), fleetSpokes: [...fleet.spokes] };
    // Leaving fleet.spokes (or destroying the hub) drains a spoke's Applications in wave order, then drops its Secret.
    fleetHub.spokeSecrets.forEach(
      (secret, index) =>
        new SpokeDrain(`fleet-drain-${spokes[index].clusterName}`, {
          kubeconfig,
          secretName: secret.metadata.name,
          server: fleetHub.spokeServers[index],
          namespace: argocdNamespace,
          secret,
        }),
    );
  }

  // Created last, so `pulumi destroy` deletes it first: it drains what Argo CD created in AWS (load balancers,
  // volumes, nodes) while Argo CD, the access entries and the cluster still exist, leaving nothing to block the VPC.
  const teardown = new OrderedTeardown("teardown", {
    clusterName: eks.name,
    region: config.region,
    kubeconfig,
    vpcId: foundation.outputs.vpcId,
    cidrBlock: config.network.vpcCidr,
    clusterSecurityGroupId: eks.vpcConfig.clusterSecurityGroupId,
    computeMode: config.compute.mode,
    deletionProtection: config.cluster.deletionProtection,
    // Argo CD and Cilium keep running while the drain deletes everything else (see their ApplicationSets).
    keepApplications: applicationsKeptOnTeardown(config.cluster.name),
    dependsOn: [
      eks,
      ...[gitops.argocd, gitops.rootApplication, gitops.clusterSecret].filter(
        (resource) => resource !== undefined,
      ),
      ...facts.readiness,
    ],
  });

  if (hubAccess)
    // Deleted first on `pulumi destroy`: refuses while the hub still lists this spoke, before anything is drained.
    new FleetSpokeGuard("fleet-guard", {
      spoke: thisStackReference(),
      hub: fleet.hub as string,
      dependsOn: [teardown, hubAccess],
    });

  return {
    clusterName: eks.name,
    clusterEndpoint: eks.endpoint,
    region: config.region,
    computeMode: config.compute.mode,
    kubernetesVersion: config.cluster.kubernetesVersion,
    updateKubeconfigCommand: eks.name.apply((name) => updateKubeconfigCommand(name, config.region)),
    kubeconfig,
    vpcId: pulumi.output(foundation.outputs.vpcId),
    privateSubnetIds: network.subnetIds,
    publicSubnetIds: foundation.outputs.publicSubnetIds.map((id) => pulumi.output(id)),
    kmsKeyArn: key.keyArn,
    environment: config.environment,
    expiresOn: config.expiresOn,
    ...fleetOutputs,
  };
}
