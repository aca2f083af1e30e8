import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { loadPlatformConfig, PlatformConfig } from "./config";
import { Cluster } from "./cluster";
import { PlatformKey } from "./cluster/encryption";
import { fleetOf } from "./config/fleet";
import { ClusterFacts } from "./facts";
import { FleetHub, FleetHubGuard, HubAccess, hubOutputs, readFleetHub, registerSpoke } from "./fleet";
import { GitOps } from "./gitops";
import { applicationsKeptOnTeardown, argocdNamespace } from "./gitops/argocd";
import { ClusterAccess } from "./identity";
import { boundEveryRole } from "./identity/role-boundary";
import { renderKubeconfig, updateKubeconfigCommand } from "./kubeconfig";
import { readFoundation } from "./foundation/reference";
import { ClusterSubnets } from "./network";
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
  // A spoke's hub too: a missing hub, or one that does not accept this stack, leaves nothing half-built.
  const fleet = fleetOf(config);
  const hub =
    fleet.role === "spoke" ? await readFleetHub(config, foundation.environment.deployRoleArn) : undefined;
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
  // A hub's Argo CD identity comes first: its chart install waits for the Pod Identity associations.
  const fleetHub = fleet.role === "hub" ? new FleetHub("fleet", { facts }) : undefined;
  const gitops = new GitOps("gitops", { cluster: facts, argocdIdentity: fleetHub?.argocdIdentity });
  let fleetOutputs: Partial<PlatformOutputs> = {};
  const hubAccess = hub ? new HubAccess("fleet-hub-access", { facts, hub }) : undefined;
  if (fleetHub) {
    fleetHub.attach({
      provider: gitops.provider,
      argocdReady: gitops.argocdReady,
      capabilityRoleArn: gitops.capabilityRoleArn,
    });
    fleetOutputs = {
      fleetHub: hubOutputs(facts, fleetHub.principalArn, foundation.environment.deployRoleArn),
    };
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
      // A spoke has no root Application to carry these: its registration (created after, deleted before the
      // teardown) must wait for the add-ons' AWS side, and the drains must run while it still exists.
      ...gitops.deployReady,
    ],
  });

  if (hub && hubAccess) {
    // The spoke writes its own cluster Secret into the hub: created last, so `pulumi destroy` first drains this
    // spoke's Applications from the hub and deletes the Secret, then tears down what is left, then the cluster.
    const { outputs } = registerSpoke({
      facts,
      hub,
      hubReference: fleet.hub as string,
      labels: gitops.labels,
      annotations: gitops.annotations,
      access: hubAccess,
      dependsOn: [teardown],
    });
    fleetOutputs = { fleetSpoke: outputs };
  }
  if (fleetHub)
    // Deleted first on `pulumi destroy` of a hub: refuses while spokes are registered, before anything is drained.
    new FleetHubGuard("fleet-guard", {
      kubeconfig,
      namespace: argocdNamespace,
      dependsOn: [teardown, fleetHub, ...(fleetHub.registrars ? [fleetHub.registrars] : [])],
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
