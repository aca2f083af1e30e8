import * as aws from "@pulumi/aws";
import type { Provider } from "@pulumi/kubernetes/provider";
import * as pulumi from "@pulumi/pulumi";
import type { PlatformConfig } from "../config";
import { fleetOf } from "../config/fleet";
import type { ClusterFacts } from "../facts";
import { argocdNamespace } from "../gitops/argocd";
import { spokeClusterSecretData } from "../gitops/cluster-secret";
import { associateClusterPolicy } from "../identity";
import { PodIdentityRole } from "../identity/pod-identity";
import { renderKubeconfig } from "../kubeconfig";
import { FleetHubGuard, SpokeRegistration } from "./component";
import {
  argoCdFleetServiceAccounts,
  FleetHubOutputs,
  FleetReferenceError,
  fleetContractVersion,
  FleetSpokeOutputs,
  hubAccessRoleName,
  hubAccessRolePath,
  hubControllerRoleName,
  parseFleetHub,
  spokeSecretName,
} from "./contract";
import { FleetRegistrars } from "./registrars";
import { registrationManifest } from "./registration";

export * from "./contract";
export * from "./registration";

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
  output: "fleetHub",
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

/**
 * A spoke's view of its hub, read before any resource is declared; a missing or wrong hub names `fleet.hub`, a hub
 * that does not accept this stack's deploy role names the hub's `fleet.registrars`. `deployRoleArn` is the role this
 * stack deploys with (its foundation's, for its environment): the one that writes the Secret into the hub.
 */
export async function readFleetHub(config: PlatformConfig, deployRoleArn: string): Promise<FleetHubOutputs> {
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
  // The hub's own cluster Secret is cluster-<hub>: a spoke of the same name would overwrite it (with the hub's deploy
  // role) or be refused by the registrars' admission policy with no word about the name.
  if (value.clusterName === config.cluster.name)
    throw new FleetReferenceError(
      `${config.project}:cluster.name`,
      config.cluster.name,
      [
        `the hub ${reference} is named ${value.clusterName} too, and its own cluster Secret is ${spokeSecretName(value.clusterName)}, the Secret this spoke would write`,
      ],
      "Give every cluster of a fleet its own cluster.name.",
    );
  if (value.repoUrl !== config.gitops.repoUrl)
    throw new FleetReferenceError(
      `${config.project}:gitops.repoUrl`,
      config.gitops.repoUrl,
      [`the hub ${reference} syncs addons/ from ${value.repoUrl}`],
      "A spoke's annotations must point at its hub's repository; set gitops.repoUrl to the hub's.",
    );
  if (value.environment !== config.environment)
    throw new FleetReferenceError(
      key,
      reference,
      [`the hub serves ${value.environment}, this stack is ${config.environment}`],
      `A spoke registers with a hub of its own environment: it writes its cluster Secret into the hub, and what a Secret's data holds (server, config) cannot be checked by the hub's admission policy, so the writer must be as trusted as the hub. Name a ${config.environment} hub, or set this stack's environment to ${value.environment} (docs/gitops.md, Fleet).`,
    );
  if (deployRoleArn !== value.deployRoleArn && !value.registrars.includes(deployRoleArn))
    throw new FleetReferenceError(
      `fleet.registrars of the hub ${reference}`,
      deployRoleArn,
      [
        `this stack deploys with ${deployRoleArn}, which is neither the hub's deploy role (${value.deployRoleArn}) nor one of its registrars`,
      ],
      `Add ${deployRoleArn} to the hub's eks-gitops-platform:fleet.registrars and \`pulumi up\` the hub once (each account's deploy role is granted once, not per spoke), then retry.`,
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
  /**
   * Everything the hub's Argo CD needs to reach this spoke: the registration waits for it, and on `pulumi destroy` it
   * outlives the drain (which needs the hub to cascade-delete on the spoke).
   */
  readonly ready: pulumi.Resource[] = [];

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
          // The hub's controller may assume roles under this path only (it cannot know its spokes in advance).
          path: hubAccessRolePath(hub.clusterName),
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
      const api = new aws.vpc.SecurityGroupIngressRule(
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
      this.ready.push(api);
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
    this.ready.push(this.association);
    this.registerOutputs({ principalArn: this.principalArn });
  }
}

export interface SpokeRegistrationInputs {
  readonly facts: ClusterFacts;
  readonly hub: FleetHubOutputs;
  readonly hubReference: string;
  readonly labels: Record<string, string>;
  readonly annotations: pulumi.Output<Record<string, string>>;
  readonly access: HubAccess;
  /** Deleted before the registration on destroy (its ordered teardown runs after the hub drained it). */
  readonly dependsOn: pulumi.Resource[];
}

/**
 * On a spoke: writes its own cluster Secret into the hub (after the hub's access to it exists, so Argo CD never
 * targets a spoke it cannot reach) and returns what it exports as `fleetSpoke`.
 */
export function registerSpoke(args: SpokeRegistrationInputs): {
  registration: SpokeRegistration;
  outputs: pulumi.Output<FleetSpokeOutputs>;
} {
  const { facts, hub, access } = args;
  const outputs = pulumi
    .all([
      facts.clusterName,
      facts.clusterArn,
      facts.endpoint,
      facts.certificateAuthorityData,
      args.annotations,
      access.hubAccessRoleArn ?? pulumi.output<string | undefined>(undefined),
    ])
    .apply(([clusterName, clusterArn, endpoint, caData, resolved, roleArn]) => ({
      contractVersion: fleetContractVersion,
      hub: args.hubReference,
      stack: thisStackReference(),
      clusterName,
      clusterArn,
      endpoint,
      certificateAuthorityData: caData,
      labels: args.labels,
      annotations: resolved,
      ...(roleArn !== undefined ? { hubAccessRoleArn: roleArn } : {}),
    }));
  const data = outputs.apply((spoke) =>
    spokeClusterSecretData(hub.install, {
      name: spoke.clusterName,
      arn: spoke.clusterArn,
      endpoint: spoke.endpoint,
      certificateAuthorityData: spoke.certificateAuthorityData,
      roleArn: spoke.hubAccessRoleArn,
    }),
  );
  const manifest = pulumi.all([outputs, data, facts.accountId]).apply(([spoke, secretData, accountId]) =>
    JSON.stringify(
      registrationManifest({
        namespace: hub.argocdNamespace,
        clusterName: spoke.clusterName,
        labels: spoke.labels,
        annotations: spoke.annotations,
        data: secretData,
        registrarAccount: accountId,
        stack: spoke.stack,
      }),
    ),
  );
  const registration = new SpokeRegistration("fleet-registration", {
    hubKubeconfig: renderKubeconfig({
      clusterName: hub.clusterName,
      endpoint: hub.endpoint,
      certificateAuthorityData: hub.certificateAuthorityData,
      region: hub.region,
    }),
    manifest,
    server: data.apply((secretData) => secretData.server),
    dependsOn: [...access.ready, ...args.dependsOn],
  });
  return { registration, outputs };
}

export interface FleetHubArgs {
  readonly facts: ClusterFacts;
}

/** What a hub's registrars and a capability hub's identity need from GitOps (declared after the hub's identity). */
export interface FleetHubGitOps {
  /** The hub's Kubernetes provider and what must exist before Argo CD acts. */
  readonly provider: Provider;
  readonly argocdReady: pulumi.Resource[];
  /** Capability hub: the capability role. */
  readonly capabilityRoleArn?: pulumi.Output<string>;
}

/**
 * On a hub: the identity its Argo CD reaches spokes with (chart: a Pod Identity role for the application controller
 * and the server that may assume the spokes' hub-access roles, found by their IAM path; capability: the capability
 * role) and, with `fleet.registrars`, the grant that lets other accounts' spokes register (./registrars.ts). It
 * writes no spoke's Secret: each spoke writes its own, so the ApplicationSets in addons/ generate its Applications
 * exactly as they do for the hub itself.
 *
 * Declared in two steps: the constructor, before GitOps, creates the chart's Pod Identity role and associations,
 * which the Argo CD install waits for (`argocdIdentity`: a pod created before its association never gets
 * credentials, and every spoke would fail to authenticate until the controller restarts); `attach`, after GitOps,
 * takes the capability role and adds the registrars, which need Argo CD's namespace.
 */
export class FleetHub extends pulumi.ComponentResource {
  /** Chart hub: what the Argo CD install must wait for. */
  readonly argocdIdentity: pulumi.Resource[] = [];
  private readonly facts: ClusterFacts;
  private readonly resourceName: string;
  private chartPrincipalArn?: pulumi.Output<string>;
  private attached?: { principalArn: pulumi.Output<string>; registrars?: FleetRegistrars };

  constructor(name: string, args: FleetHubArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:fleet:FleetHub", name, {}, opts);
    const { facts } = args;
    const config = facts.config;
    this.facts = facts;
    this.resourceName = name;
    if (config.gitops.argocd.install === "helm") {
      const [controller, ...others] = argoCdFleetServiceAccounts;
      const role = new PodIdentityRole(
        `${name}-argocd`,
        {
          roleName: hubControllerRoleName(config.cluster.name),
          partition: facts.partition,
          // Each spoke's hub-access role lives under this hub's path (any account) and trusts only this role.
          inlinePolicy: pulumi.output(facts.partition).apply((partition) =>
            JSON.stringify({
              Version: "2012-10-17",
              Statement: [
                {
                  Effect: "Allow",
                  Action: ["sts:AssumeRole", "sts:TagSession"],
                  Resource: `arn:${partition}:iam::*:role${hubAccessRolePath(config.cluster.name)}*`,
                },
              ],
            }),
          ),
          association: {
            clusterName: facts.clusterName,
            namespace: argocdNamespace,
            serviceAccount: controller,
          },
          tags: config.tags,
        },
        { parent: this },
      );
      this.argocdIdentity.push(role);
      for (const serviceAccount of others)
        this.argocdIdentity.push(
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
      this.chartPrincipalArn = role.roleArn;
    }
    this.registerOutputs({});
  }

  /** After GitOps: the capability role (capability hub) and the registrars' grant (with `fleet.registrars`). */
  attach(gitops: FleetHubGitOps): void {
    if (this.attached) throw new Error("FleetHub.attach runs once");
    const config = this.facts.config;
    let principalArn: pulumi.Output<string>;
    if (config.gitops.argocd.install === "capability") {
      if (gitops.capabilityRoleArn === undefined)
        throw new Error("a capability hub needs its capability role");
      principalArn = gitops.capabilityRoleArn;
    } else principalArn = this.chartPrincipalArn as pulumi.Output<string>;
    const registrars =
      fleetOf(config).registrars.length > 0
        ? new FleetRegistrars(
            `${this.resourceName}-registrars`,
            {
              facts: this.facts,
              namespace: argocdNamespace,
              provider: gitops.provider,
              argocdReady: gitops.argocdReady,
            },
            { parent: this },
          )
        : undefined;
    this.attached = { principalArn, registrars };
  }

  /** The identity Argo CD reaches spokes with (after `attach`). */
  get principalArn(): pulumi.Output<string> {
    if (!this.attached) throw new Error("FleetHub.attach has not run");
    return this.attached.principalArn;
  }

  get registrars(): FleetRegistrars | undefined {
    return this.attached?.registrars;
  }
}

/** What a hub exports as `fleetHub`. */
export function hubOutputs(
  facts: ClusterFacts,
  principalArn: pulumi.Output<string>,
  deployRoleArn: string,
): pulumi.Output<FleetHubOutputs> {
  const config = facts.config;
  return pulumi
    .all([
      facts.accountId,
      facts.clusterSecurityGroupId,
      facts.vpcId,
      principalArn,
      facts.endpoint,
      facts.certificateAuthorityData,
    ])
    .apply(([accountId, clusterSecurityGroupId, vpcId, principal, endpoint, caData]) => ({
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
      environment: config.environment,
      endpoint,
      certificateAuthorityData: caData,
      argocdNamespace,
      deployRoleArn,
      registrars: [...fleetOf(config).registrars],
    }));
}

export { FleetHubGuard };
