import * as aws from "@pulumi/aws";
import * as core from "@pulumi/kubernetes/core/v1";
import type { Provider } from "@pulumi/kubernetes/provider";
import * as pulumi from "@pulumi/pulumi";
import type { PlatformConfig } from "../config";
import { fleetOf } from "../config/fleet";
import type { ClusterFacts } from "../facts";
import { argocdNamespace } from "../gitops/argocd";
import { spokeClusterSecretData } from "../gitops/cluster-secret";
import { associateClusterPolicy } from "../identity";
import { PodIdentityRole } from "../identity/pod-identity";
import {
  argoCdFleetServiceAccounts,
  FleetHubOutputs,
  FleetReferenceError,
  fleetContractVersion,
  FleetSpokeOutputs,
  hubAccessRoleName,
  hubControllerRoleName,
  parseFleetHub,
  parseFleetSpoke,
  spokeSecretName,
} from "./contract";

export * from "./contract";

/**
 * The EKS access policy a hub gets on each spoke, and why it is the narrowest that works: the add-ons the hub
 * deploys (addons/) install CRDs, ClusterRoles and bindings, admission webhooks, StorageClasses and namespaces,
 * all cluster-scoped, and Kubernetes RBAC only lets a principal create a ClusterRole granting what it holds itself
 * (escalation prevention) — so anything narrower (AmazonEKSAdminPolicy, namespace-scoped) makes the first sync of
 * Karpenter, Falco or cluster-base Forbidden. It is granted as an access policy, never through a Kubernetes group,
 * so it shows in `aws eks list-associated-access-policies` and goes with the access entry. policies/fleet.ts checks it.
 */
export const hubAccessPolicy = "AmazonEKSClusterAdminPolicy" as const;

/** `<organization>/<project>/<stack>` of the running stack: what the other side of the fleet names. */
export function thisStackReference(): string {
  return `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`;
}

/** Reads one stack's output as a plain value (known at preview: StackReference reads the other stack's state). */
async function readOutputs(
  name: string,
  reference: string,
  output: "fleetHub" | "fleetSpoke",
): Promise<Record<string, unknown>> {
  const ref = new pulumi.StackReference(name, { name: reference });
  let fleet: { value?: unknown };
  let clusterName: { value?: unknown };
  try {
    [fleet, clusterName] = await Promise.all([
      ref.getOutputDetails(output),
      ref.getOutputDetails("clusterName"),
    ]);
  } catch {
    // The engine refuses a reference to a stack the backend does not hold ("unknown stack").
    return {};
  }
  const raw: Record<string, unknown> = {};
  if (fleet.value !== undefined) raw[output] = fleet.value;
  if (clusterName.value !== undefined) raw.clusterName = clusterName.value;
  return raw;
}

/** A spoke's view of its hub, read before any resource is declared; a missing or wrong hub names `fleet.hub`. */
export async function readFleetHub(config: PlatformConfig): Promise<FleetHubOutputs> {
  const fleet = fleetOf(config);
  const key = `${config.project}:fleet.hub`;
  const reference = fleet.hub as string;
  const { value, problems } = parseFleetHub(await readOutputs("fleet-hub", reference, "fleetHub"));
  if (!value)
    throw new FleetReferenceError(
      key,
      reference,
      problems,
      "Deploy the hub first (a stack with fleet.role: hub), or set fleet.hub to its fully qualified stack name.",
    );
  if (value.repoUrl !== config.gitops.repoUrl)
    throw new FleetReferenceError(
      `${config.project}:gitops.repoUrl`,
      config.gitops.repoUrl,
      [`the hub ${reference} syncs addons/ from ${value.repoUrl}`],
      "A spoke's annotations must point at its hub's repository; set gitops.repoUrl to the hub's.",
    );
  if (value.install === "helm" && fleet.hubNetwork === undefined)
    throw new FleetReferenceError(
      `${config.project}:fleet.hubNetwork`,
      "(unset)",
      [
        `the hub ${reference} runs Argo CD from the chart, whose pods need a network path to this private endpoint`,
      ],
      'Set fleet.hubNetwork: "same-vpc" (the hub cluster shares this VPC) or "routed" (you peer the VPCs or attach them to a transit gateway; this stack admits the hub VPC\'s CIDR).',
    );
  return value;
}

/** A hub's view of its spokes, read before any resource is declared; each problem names `fleet.spokes.<i>`. */
export async function readFleetSpokes(config: PlatformConfig): Promise<FleetSpokeOutputs[]> {
  const self = thisStackReference();
  return Promise.all(
    fleetOf(config).spokes.map(async (reference, index) => {
      const key = `${config.project}:fleet.spokes.${index}`;
      const { value, problems } = parseFleetSpoke(
        await readOutputs(`fleet-spoke-${index}`, reference, "fleetSpoke"),
      );
      if (!value)
        throw new FleetReferenceError(
          key,
          reference,
          problems,
          "A spoke is created first (`pulumi up` of a stack with fleet.role: spoke and fleet.hub naming this hub); list it here afterwards.",
        );
      if (value.hub !== self)
        throw new FleetReferenceError(
          key,
          reference,
          [`it grants access to the hub ${value.hub}, not to this stack (${self})`],
          "Set the spoke's fleet.hub to this stack and `pulumi up` it, or remove it from fleet.spokes.",
        );
      if (value.annotations.addons_repo_url !== config.gitops.repoUrl)
        throw new FleetReferenceError(
          key,
          reference,
          [
            `its annotations point at ${value.annotations.addons_repo_url}, this hub syncs ${config.gitops.repoUrl}`,
          ],
          "Set the spoke's gitops.repoUrl to this hub's.",
        );
      return value;
    }),
  );
}

/**
 * `fleet.hubNetwork: same-vpc` admits the hub's nodes and pods by their security group, which only means something
 * inside one VPC (clusters sharing a foundation VPC): returns that group, or throws naming the key.
 */
export function sameVpcHubSecurityGroup(project: string, hub: FleetHubOutputs, vpcId: string): string {
  if (vpcId !== hub.vpcId)
    throw new Error(
      `${project}:fleet.hubNetwork is "same-vpc" but the hub ${hub.stack} runs in ${hub.vpcId} and this cluster in ${vpcId}: set "routed" and connect the VPCs (peering or transit gateway)`,
    );
  return hub.clusterSecurityGroupId;
}

export interface HubAccessArgs {
  readonly facts: ClusterFacts;
  readonly hub: FleetHubOutputs;
}

/**
 * On a spoke: the access its hub's Argo CD gets, and nothing else. Capability hub: an access entry for the
 * capability role (EKS reaches the private endpoint itself, the Secret's `server` is this cluster's ARN). Chart hub:
 * a role in this account that the hub's controller role may assume, its access entry, and 443 from the hub's
 * nodes (same VPC) or the hub VPC's CIDR (routed).
 */
export class HubAccess extends pulumi.ComponentResource {
  readonly principalArn: pulumi.Output<string>;
  readonly hubAccessRoleArn?: pulumi.Output<string>;
  readonly association: aws.eks.AccessPolicyAssociation;

  constructor(name: string, args: HubAccessArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:fleet:HubAccess", name, {}, opts);
    const { facts, hub } = args;
    const config = facts.config;
    const parent = { parent: this };
    if (hub.install === "capability") {
      this.principalArn = pulumi.output(hub.principalArn);
    } else {
      const role = new aws.iam.Role(
        `${name}-role`,
        {
          name: hubAccessRoleName(config.cluster.name),
          description: `Argo CD on the fleet hub ${hub.clusterName} (${hub.stack}) deploys to ${config.cluster.name}`,
          assumeRolePolicy: JSON.stringify({
            Version: "2012-10-17",
            Statement: [
              {
                Effect: "Allow",
                Principal: { AWS: hub.principalArn },
                // Pod Identity sessions carry session tags; chaining into this role passes them on.
                Action: ["sts:AssumeRole", "sts:TagSession"],
              },
            ],
          }),
          tags: config.tags,
        },
        parent,
      );
      this.principalArn = role.arn;
      this.hubAccessRoleArn = role.arn;
      const network = fleetOf(config).hubNetwork;
      new aws.vpc.SecurityGroupIngressRule(
        `${name}-api`,
        {
          securityGroupId: facts.clusterSecurityGroupId,
          ipProtocol: "tcp",
          fromPort: 443,
          toPort: 443,
          ...(network === "same-vpc"
            ? {
                // Resolved once this cluster's VPC id is known: a mismatch fails the rule, and the `pulumi up`.
                referencedSecurityGroupId: pulumi
                  .output(facts.vpcId)
                  .apply((vpcId) => sameVpcHubSecurityGroup(config.project, hub, vpcId)),
              }
            : { cidrIpv4: hub.vpcCidr }),
          description: `Kubernetes API from the Argo CD fleet hub ${hub.clusterName}`,
          tags: config.tags,
        },
        parent,
      );
    }
    const entry = new aws.eks.AccessEntry(
      `${name}-entry`,
      {
        clusterName: facts.clusterName,
        principalArn: this.principalArn,
        type: "STANDARD",
        tags: config.tags,
      },
      { parent: this, dependsOn: [facts.cluster] },
    );
    this.association = associateClusterPolicy(
      this,
      `${name}-policy`,
      {
        clusterName: facts.clusterName,
        principalArn: entry.principalArn,
        partition: facts.partition,
        policy: hubAccessPolicy,
      },
      [entry],
    );
    this.registerOutputs({ principalArn: this.principalArn });
  }
}

/** What a spoke exports as `fleetSpoke`. */
export function spokeOutputs(
  facts: ClusterFacts,
  hubReference: string,
  labels: Record<string, string>,
  annotations: pulumi.Output<Record<string, string>>,
  access: HubAccess,
): pulumi.Output<FleetSpokeOutputs> {
  return pulumi
    .all([
      facts.clusterName,
      facts.clusterArn,
      facts.endpoint,
      facts.certificateAuthorityData,
      annotations,
      access.hubAccessRoleArn ?? pulumi.output<string | undefined>(undefined),
      // Exported once the grant exists, so a hub never registers a spoke its Argo CD cannot reach yet.
      access.association.id,
    ])
    .apply(([clusterName, clusterArn, endpoint, caData, resolved, roleArn]) => ({
      contractVersion: fleetContractVersion,
      hub: hubReference,
      stack: thisStackReference(),
      clusterName,
      clusterArn,
      endpoint,
      certificateAuthorityData: caData,
      labels,
      annotations: resolved,
      ...(roleArn !== undefined ? { hubAccessRoleArn: roleArn } : {}),
    }));
}

export interface FleetHubArgs {
  readonly facts: ClusterFacts;
  readonly spokes: readonly FleetSpokeOutputs[];
  /** The hub's Kubernetes provider and what must exist before Argo CD acts (from GitOps). */
  readonly provider: Provider;
  readonly argocdReady: pulumi.Resource[];
  /** Capability hub: the capability role (from GitOps). */
  readonly capabilityRoleArn?: pulumi.Output<string>;
}

/**
 * On a hub: the identity its Argo CD reaches spokes with (chart: a Pod Identity role for the application controller
 * and the server that may assume exactly the spokes' hub-access roles; capability: the capability role) and one
 * cluster Secret per spoke, with the spoke's own labels and annotations, so the ApplicationSets in addons/ generate
 * each spoke's Applications exactly as they do for the hub itself.
 */
export class FleetHub extends pulumi.ComponentResource {
  readonly principalArn: pulumi.Output<string>;
  readonly spokeSecrets: core.Secret[];
  /** Per spoke (same order): the `server` its Applications deploy to. */
  readonly spokeServers: string[];

  constructor(name: string, args: FleetHubArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:fleet:FleetHub", name, {}, opts);
    const { facts, spokes } = args;
    const config = facts.config;
    const install = config.gitops.argocd.install;
    const identity: pulumi.Resource[] = [];
    if (install === "capability") {
      if (args.capabilityRoleArn === undefined) throw new Error("a capability hub needs its capability role");
      this.principalArn = args.capabilityRoleArn;
    } else {
      const roles = spokes.flatMap((spoke) => (spoke.hubAccessRoleArn ? [spoke.hubAccessRoleArn] : []));
      const [controller, ...others] = argoCdFleetServiceAccounts;
      const role = new PodIdentityRole(
        `${name}-argocd`,
        {
          roleName: hubControllerRoleName(config.cluster.name),
          partition: facts.partition,
          // Only the spokes listed in fleet.spokes, and only to assume their hub-access role.
          inlinePolicy:
            roles.length > 0
              ? JSON.stringify({
                  Version: "2012-10-17",
                  Statement: [
                    { Effect: "Allow", Action: ["sts:AssumeRole", "sts:TagSession"], Resource: roles },
                  ],
                })
              : undefined,
          association: {
            clusterName: facts.clusterName,
            namespace: argocdNamespace,
            serviceAccount: controller,
          },
          tags: config.tags,
        },
        { parent: this },
      );
      identity.push(role);
      for (const serviceAccount of others)
        identity.push(
          new aws.eks.PodIdentityAssociation(
            `${name}-argocd-${serviceAccount}`,
            {
              clusterName: facts.clusterName,
              namespace: argocdNamespace,
              serviceAccount,
              roleArn: role.roleArn,
              tags: config.tags,
            },
            { parent: this },
          ),
        );
      this.principalArn = role.roleArn;
    }

    const data = spokes.map((spoke) =>
      spokeClusterSecretData(install, {
        name: spoke.clusterName,
        arn: spoke.clusterArn,
        endpoint: spoke.endpoint,
        certificateAuthorityData: spoke.certificateAuthorityData,
        roleArn: spoke.hubAccessRoleArn,
      }),
    );
    this.spokeServers = data.map((entry) => entry.server);
    this.spokeSecrets = spokes.map(
      (spoke, index) =>
        new core.Secret(
          `${name}-spoke-${spoke.clusterName}`,
          {
            metadata: {
              name: spokeSecretName(spoke.clusterName),
              namespace: argocdNamespace,
              labels: { ...spoke.labels },
              annotations: { ...spoke.annotations, fleet_spoke_stack: spoke.stack },
            },
            stringData: data[index],
          },
          { parent: this, provider: args.provider, dependsOn: [...args.argocdReady, ...identity] },
        ),
    );
    this.registerOutputs({ principalArn: this.principalArn });
  }
}

/** What a hub exports as `fleetHub`. */
export function hubOutputs(
  facts: ClusterFacts,
  principalArn: pulumi.Output<string>,
): pulumi.Output<FleetHubOutputs> {
  const config = facts.config;
  return pulumi
    .all([facts.accountId, facts.clusterSecurityGroupId, facts.vpcId, principalArn])
    .apply(([accountId, clusterSecurityGroupId, vpcId, principal]) => ({
      contractVersion: fleetContractVersion,
      stack: thisStackReference(),
      install: config.gitops.argocd.install,
      accountId,
      region: config.region,
      clusterName: config.cluster.name,
      principalArn: principal,
      vpcId,
      vpcCidr: config.network.vpcCidr,
      clusterSecurityGroupId,
      repoUrl: config.gitops.repoUrl,
    }));
}
