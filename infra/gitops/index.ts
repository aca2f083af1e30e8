import * as aws from "@pulumi/aws";
// Submodule imports: the @pulumi/kubernetes index loads every API group, doubling the cost of a synth.
import * as apiextensions from "@pulumi/kubernetes/apiextensions";
import * as core from "@pulumi/kubernetes/core/v1";
import * as helm from "@pulumi/kubernetes/helm/v3";
import { Provider } from "@pulumi/kubernetes/provider";
import * as pulumi from "@pulumi/pulumi";
import { AddonsAws } from "../addons";
import { enabledAddons } from "../addons/enabled";
import type { PlatformConfig } from "../config";
import type { ClusterFacts } from "../facts";
import { fleetOf } from "../config/fleet";
import { defaultAddonsDir } from "./addon-files";
import { argocdNamespace, cascadeFinalizer } from "./argocd";
import { bootstrapArgoCdChart, bootstrapPodNetwork, ChartBootstrap } from "./bootstrap";
import { argoCdCapability } from "./capability";
import {
  clusterSecretAnnotations,
  clusterSecretData,
  clusterSecretLabels,
  clusterServer,
} from "./cluster-secret";
import { clusterGeneratorParams } from "./template";

export interface GitOpsArgs {
  readonly cluster: ClusterFacts;
  /** The local addons/ folder the bootstrap installs read chart versions and values from (default: this checkout's). */
  readonly addonsDir?: string;
  /** Chart install: what Argo CD's pods need before they are created (a fleet hub's Pod Identity associations). */
  readonly argocdIdentity?: pulumi.Resource[];
}

export { argocdNamespace };

/** Name of the app-of-apps Application Pulumi creates; everything else comes from git. */
export const rootApplicationName = "platform-addons";

/** Files of addons/ the root Application syncs: the project, repository entries and one ApplicationSet per add-on. */
export const rootApplicationInclude = "{project.yaml,*/applicationset.yaml,*/repository.yaml}";

/**
 * Argo CD bootstrap and hand-over (gitops-bridge): the add-ons' AWS side, Argo CD itself (the argo-cd chart once,
 * self-managed afterwards, or the EKS managed capability), the cluster Secret whose labels switch add-ons on and
 * whose annotations carry infrastructure values, and the root Application that syncs addons/ from git.
 */
export class GitOps extends pulumi.ComponentResource {
  readonly addons: AddonsAws;
  readonly provider: Provider;
  /** Absent on a fleet spoke: its hub's Argo CD deploys to it (infra/fleet). */
  readonly argocd?: helm.Release | aws.eks.Capability;
  readonly cilium?: helm.Release;
  readonly coreDns?: aws.eks.Addon;
  readonly clusterSecret?: core.Secret;
  readonly rootApplication?: apiextensions.CustomResource;
  /** The cluster Secret contract of this cluster; a spoke exports it for its hub. */
  readonly labels: Record<string, string>;
  readonly annotations: pulumi.Output<Record<string, string>>;
  /** What must exist before Argo CD can act (its install; in capability mode its access too). */
  readonly argocdReady: pulumi.Resource[] = [];
  /**
   * What must exist before any Argo CD (this cluster's or, on a spoke, its hub's) deploys add-ons here, and outlive
   * their drain on `pulumi destroy`: the cluster's access and readiness, the add-ons' AWS side (a pod created before
   * its Pod Identity association never gets credentials; Karpenter needs its role while its node pools drain), and
   * the bootstrapped pod network.
   */
  readonly deployReady: pulumi.Resource[];
  /** capability mode: the capability's IAM role, the identity a fleet hub reaches its spokes with. */
  readonly capabilityRoleArn?: pulumi.Output<string>;

  constructor(name: string, args: GitOpsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:index:GitOps", name, {}, opts);
    const facts = args.cluster;
    const config = facts.config;

    this.addons = new AddonsAws(`${name}-addons`, { cluster: facts }, { parent: this });

    // Credentials come from `aws eks get-token` in the kubeconfig, so whoever runs `pulumi up` must reach the private
    // endpoint (a runner inside the VPC, or dev's allow-listed public CIDR) and hold an access entry.
    this.provider = new Provider(
      `${name}-kubernetes`,
      { kubeconfig: facts.kubeconfig, enableServerSideApply: true },
      { parent: this },
    );
    const k8s = { parent: this, provider: this.provider };

    const labels = clusterSecretLabels(config);
    const annotations = resolvedAnnotations(facts, this.addons);
    this.labels = labels;
    this.annotations = annotations;
    const server = facts.clusterArn.apply((arn) => clusterServer(config, arn));
    // What the ApplicationSets will see for this cluster: the bootstrap installs render the same templates.
    const bootstrap: ChartBootstrap = {
      addonsDir: args.addonsDir ?? defaultAddonsDir,
      params: pulumi
        .all([facts.clusterName, server, annotations])
        .apply(([clusterName, serverUrl, resolved]) =>
          clusterGeneratorParams({ name: clusterName, server: serverUrl, labels, annotations: resolved }),
        ),
    };

    const workloadReady: pulumi.Resource[] = [...facts.readiness, ...this.addons.readiness];
    if (enabledAddons(config).cilium) {
      const network = bootstrapPodNetwork(name, facts, bootstrap, {
        ...k8s,
        dependsOn: [facts.cluster, ...facts.apiAccess, this.addons],
      });
      this.cilium = network.cilium;
      this.coreDns = network.coreDns;
      workloadReady.push(this.cilium, this.coreDns);
    }
    this.deployReady = [...workloadReady, this.addons];

    if (fleetOf(config).role === "spoke") {
      this.registerOutputs({ argocdInstall: "hub" });
      return;
    }

    // What must exist before Argo CD can act on the cluster: its install, plus its access in capability mode.
    let argocdReady: pulumi.Resource[];
    if (config.gitops.argocd.install === "helm") {
      this.argocd = bootstrapArgoCdChart(name, bootstrap, {
        ...k8s,
        dependsOn: [...workloadReady, ...(args.argocdIdentity ?? [])],
      });
      argocdReady = [this.argocd];
    } else {
      const managed = argoCdCapability(this, name, facts, workloadReady);
      this.argocd = managed.capability;
      argocdReady = managed.ready;
      this.capabilityRoleArn = managed.roleArn;
    }
    this.argocdReady = argocdReady;

    this.clusterSecret = new core.Secret(
      `${name}-cluster`,
      {
        metadata: {
          name: facts.clusterName.apply((clusterName) => `cluster-${clusterName}`),
          namespace: argocdNamespace,
          labels,
          annotations,
        },
        stringData: pulumi
          .all([facts.clusterName, facts.clusterArn])
          .apply(([clusterName, clusterArn]) => clusterSecretData(config, clusterName, clusterArn)),
      },
      { ...k8s, dependsOn: argocdReady },
    );

    // Depending on the add-ons' AWS side also orders `pulumi destroy`: the root Application (and with it the node
    // pools and volumes) is deleted while Karpenter still has its role and queue.
    this.rootApplication = rootApplication(`${name}-root`, config, server, {
      ...k8s,
      dependsOn: [...argocdReady, this.clusterSecret, this.addons],
    });

    this.registerOutputs({
      argocdInstall: config.gitops.argocd.install,
      argocdNamespace,
      clusterSecretName: this.clusterSecret.metadata.name,
      rootApplication: rootApplicationName,
    });
  }
}

/** The cluster Secret's annotations, once the cluster's and the add-ons' AWS values are known. */
function resolvedAnnotations(facts: ClusterFacts, addons: AddonsAws): pulumi.Output<Record<string, string>> {
  const optional = (value?: pulumi.Output<string>) => value ?? pulumi.output<string | undefined>(undefined);
  return pulumi
    .all([
      pulumi
        .all([
          facts.accountId,
          facts.partition,
          facts.clusterName,
          facts.clusterArn,
          facts.endpoint,
          facts.vpcId,
          facts.clusterSecurityGroupId,
        ])
        .apply(
          ([accountId, partition, clusterName, clusterArn, endpoint, vpcId, clusterSecurityGroupId]) => ({
            accountId,
            partition,
            clusterName,
            clusterArn,
            endpoint,
            vpcId,
            clusterSecurityGroupId,
          }),
        ),
      pulumi.all(facts.privateSubnetIds),
      pulumi.all([
        optional(addons.karpenterNodeRoleName),
        optional(addons.karpenterControllerRoleArn),
        optional(addons.karpenterInterruptionQueueName),
        optional(addons.ciliumOperatorRoleArn),
      ]),
      pulumi.all({
        awsLoadBalancerControllerRoleArn: optional(addons.awsLoadBalancerControllerRoleArn),
        externalDnsRoleArn: optional(addons.externalDnsRoleArn),
        externalSecretsRoleArn: optional(addons.externalSecretsRoleArn),
      }),
    ])
    .apply(
      ([base, privateSubnetIds, [nodeRoleName, controllerRoleArn, queueName, ciliumRoleArn], everyday]) =>
        clusterSecretAnnotations(facts.config, {
          ...base,
          privateSubnetIds,
          karpenterNodeRoleName: nodeRoleName,
          karpenterControllerRoleArn: controllerRoleArn,
          karpenterInterruptionQueueName: queueName,
          ciliumOperatorRoleArn: ciliumRoleArn,
          ...everyday,
        }),
    );
}

/** The app-of-apps Application: it syncs addons/ from git, and with it every add-on. */
function rootApplication(
  name: string,
  config: PlatformConfig,
  server: pulumi.Output<string>,
  opts: pulumi.CustomResourceOptions,
): apiextensions.CustomResource {
  return new apiextensions.CustomResource(
    name,
    {
      apiVersion: "argoproj.io/v1alpha1",
      kind: "Application",
      metadata: {
        name: rootApplicationName,
        namespace: argocdNamespace,
        // Deleting the root Application (pulumi destroy) first deletes what it synced, so add-ons' load balancers,
        // volumes and nodes are gone before the VPC and cluster are torn down.
        finalizers: [cascadeFinalizer],
      },
      spec: {
        project: "default",
        source: {
          repoURL: config.gitops.repoUrl,
          targetRevision: config.gitops.revision,
          path: config.gitops.path,
          directory: { recurse: true, include: rootApplicationInclude },
        },
        destination: { server, namespace: argocdNamespace },
        syncPolicy: {
          automated: { prune: true, selfHeal: true },
          retry: { limit: 10, backoff: { duration: "10s", factor: 2, maxDuration: "5m" } },
        },
      },
    },
    opts,
  );
}
