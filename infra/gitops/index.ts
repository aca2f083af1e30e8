import * as aws from "@pulumi/aws";
// Submodule imports: the @pulumi/kubernetes index loads every API group, doubling the cost of a synth.
import * as apiextensions from "@pulumi/kubernetes/apiextensions";
import * as core from "@pulumi/kubernetes/core/v1";
import * as helm from "@pulumi/kubernetes/helm/v3";
import { Provider } from "@pulumi/kubernetes/provider";
import * as pulumi from "@pulumi/pulumi";
import { AddonsAws } from "../addons";
import { serviceTrustPolicy } from "../cluster/policies";
import { eksAddon } from "../cluster/system-nodes";
import type { ClusterFacts } from "../facts";
import { associateClusterPolicy } from "../identity";
import { defaultAddonsDir, RenderedHelmRelease, renderHelmRelease } from "./addon-files";
import {
  argocdNamespace,
  cascadeFinalizer,
  clusterSecretAnnotations,
  clusterSecretData,
  clusterSecretLabels,
  clusterServer,
  enabledAddons,
} from "./cluster-secret";
import { clusterGeneratorParams, ClusterGeneratorParams } from "./template";

export interface GitOpsArgs {
  readonly cluster: ClusterFacts;
  /** The local addons/ folder the bootstrap installs read chart versions and values from (default: this checkout's). */
  readonly addonsDir?: string;
}

// Argo CD's namespace, for the chart and for the capability alike. The manifests in addons/ name it too (their
// ApplicationSets, project and repository entries must live in Argo CD's namespace); a test keeps them in step.
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
  readonly argocd: helm.Release | aws.eks.Capability;
  readonly cilium?: helm.Release;
  readonly coreDns?: aws.eks.Addon;
  readonly clusterSecret: core.Secret;
  readonly rootApplication: apiextensions.CustomResource;

  constructor(name: string, args: GitOpsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:index:GitOps", name, {}, opts);
    const facts = args.cluster;
    const config = facts.config;
    const addonsDir = args.addonsDir ?? defaultAddonsDir;
    const argocdConfig = config.gitops.argocd;
    const namespace = argocdNamespace;
    const parent = { parent: this };

    this.addons = new AddonsAws(`${name}-addons`, { cluster: facts }, parent);

    // Credentials come from `aws eks get-token` in the kubeconfig, so whoever runs `pulumi up` must reach the private
    // endpoint (a runner inside the VPC, or dev's allow-listed public CIDR) and hold an access entry.
    this.provider = new Provider(
      `${name}-kubernetes`,
      { kubeconfig: facts.kubeconfig, enableServerSideApply: true },
      parent,
    );
    const k8s = { parent: this, provider: this.provider };

    const labels = clusterSecretLabels(config);
    const optional = (value?: pulumi.Output<string>) => value ?? pulumi.output<string | undefined>(undefined);
    const annotations = pulumi
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
          optional(this.addons.karpenterNodeRoleName),
          optional(this.addons.karpenterControllerRoleArn),
          optional(this.addons.karpenterInterruptionQueueName),
          optional(this.addons.ciliumOperatorRoleArn),
        ]),
        pulumi.all({
          awsLoadBalancerControllerRoleArn: optional(this.addons.awsLoadBalancerControllerRoleArn),
          externalDnsRoleArn: optional(this.addons.externalDnsRoleArn),
          externalSecretsRoleArn: optional(this.addons.externalSecretsRoleArn),
        }),
      ])
      .apply(
        ([base, privateSubnetIds, [nodeRoleName, controllerRoleArn, queueName, ciliumRoleArn], everyday]) =>
          clusterSecretAnnotations(config, {
            ...base,
            privateSubnetIds,
            karpenterNodeRoleName: nodeRoleName,
            karpenterControllerRoleArn: controllerRoleArn,
            karpenterInterruptionQueueName: queueName,
            ciliumOperatorRoleArn: ciliumRoleArn,
            ...everyday,
          }),
      );
    const server = facts.clusterArn.apply((arn) => clusterServer(config, arn));
    // What the ApplicationSets will see for this cluster: the bootstrap installs render the same templates.
    const params: pulumi.Output<ClusterGeneratorParams> = pulumi
      .all([facts.clusterName, server, annotations])
      .apply(([clusterName, serverUrl, resolved]) =>
        clusterGeneratorParams({ name: clusterName, server: serverUrl, labels, annotations: resolved }),
      );

    const workloadReady: pulumi.Resource[] = [...facts.readiness, ...this.addons.readiness];
    if (enabledAddons(config).cilium) {
      this.cilium = bootstrapRelease(
        `${name}-cilium`,
        params.apply((p) => renderHelmRelease(addonsDir, "cilium", "cilium", p)),
        // Only API access, neither the EKS add-ons (their pods need the pod network Cilium brings) nor the node
        // group (its nodes stay NotReady until Cilium runs): the DaemonSet starts as nodes join.
        { ...k8s, dependsOn: [facts.cluster, ...facts.apiAccess, this.addons] },
      );
      // CoreDNS needs pod networking, so on a Cilium cluster the platform adds the EKS add-on only after Cilium.
      this.coreDns = eksAddon(this, `${name}-coredns`, facts.clusterName, "coredns", config.tags, {
        dependsOn: [this.cilium],
      });
      workloadReady.push(this.cilium, this.coreDns);
    }

    // What must exist before Argo CD can act on the cluster: its install, plus its access in capability mode.
    const argocdReady: pulumi.Resource[] = [];
    if (argocdConfig.install === "helm") {
      this.argocd = bootstrapRelease(
        `${name}-argocd`,
        params.apply((p) => renderHelmRelease(addonsDir, "argo-cd", "argo-cd", p)),
        { ...k8s, dependsOn: workloadReady },
      );
      argocdReady.push(this.argocd);
    } else {
      const identityCenter = argocdConfig.identityCenter;
      if (identityCenter === undefined)
        throw new Error("gitops.argocd.identityCenter is required for install: capability");
      const role = new aws.iam.Role(
        `${name}-argocd-capability`,
        {
          name: `${config.cluster.name}-argocd-capability`,
          assumeRolePolicy: serviceTrustPolicy("capabilities.eks.amazonaws.com", true),
          tags: config.tags,
        },
        parent,
      );
      const mappings = [
        { role: "ADMIN", ids: identityCenter.adminGroupIds },
        { role: "VIEWER", ids: identityCenter.viewerGroupIds },
      ]
        .filter((mapping) => mapping.ids.length > 0)
        .map((mapping) => ({
          role: mapping.role,
          identities: mapping.ids.map((id) => ({ id, type: "SSO_GROUP" })),
        }));
      this.argocd = new aws.eks.Capability(
        `${name}-argocd`,
        {
          clusterName: facts.clusterName,
          capabilityName: "argocd",
          type: "ARGOCD",
          roleArn: role.arn,
          // Keep the Argo CD objects if the capability is deleted; teardown goes through the root Application.
          deletePropagationPolicy: "RETAIN",
          configuration: {
            argoCd: {
              awsIdc: { idcInstanceArn: identityCenter.instanceArn, idcRegion: identityCenter.region },
              namespace,
              ...(mappings.length > 0 ? { rbacRoleMappings: mappings } : {}),
            },
          },
          tags: config.tags,
        },
        { ...parent, dependsOn: workloadReady },
      );
      argocdReady.push(this.argocd);
      // EKS gives the capability role an access entry but no Kubernetes permissions: without this every sync of
      // the local cluster is Forbidden.
      argocdReady.push(
        associateClusterPolicy(
          this,
          `${name}-argocd-capability`,
          {
            clusterName: facts.clusterName,
            principalArn: role.arn,
            partition: facts.partition,
            policy: "AmazonEKSClusterAdminPolicy",
          },
          [this.argocd],
        ),
      );
    }

    this.clusterSecret = new core.Secret(
      `${name}-cluster`,
      {
        metadata: {
          name: facts.clusterName.apply((clusterName) => `cluster-${clusterName}`),
          namespace,
          labels,
          annotations,
        },
        stringData: pulumi
          .all([facts.clusterName, facts.clusterArn])
          .apply(([clusterName, clusterArn]) => clusterSecretData(config, clusterName, clusterArn)),
      },
      { ...k8s, dependsOn: argocdReady },
    );

    this.rootApplication = new apiextensions.CustomResource(
      `${name}-root`,
      {
        apiVersion: "argoproj.io/v1alpha1",
        kind: "Application",
        metadata: {
          name: rootApplicationName,
          namespace,
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
          destination: { server, namespace },
          syncPolicy: {
            automated: { prune: true, selfHeal: true },
            retry: { limit: 10, backoff: { duration: "10s", factor: 2, maxDuration: "5m" } },
          },
        },
      },
      // Depending on the add-ons' AWS side also orders `pulumi destroy`: the root Application (and with it the
      // node pools and volumes) is deleted while Karpenter still has its role and queue.
      { ...k8s, dependsOn: [...argocdReady, this.clusterSecret, this.addons] },
    );

    this.registerOutputs({
      argocdInstall: argocdConfig.install,
      argocdNamespace: namespace,
      clusterSecretName: this.clusterSecret.metadata.name,
      rootApplication: rootApplicationName,
    });
  }
}

/**
 * The first install of a chart that Argo CD manages afterwards. Version and values changes are ignored here on
 * purpose: after the hand-over they happen in git (addons/<name>/), and Pulumi re-applying its copy would fight
 * Argo CD.
 */
function bootstrapRelease(
  name: string,
  rendered: pulumi.Output<RenderedHelmRelease>,
  opts: pulumi.CustomResourceOptions,
): helm.Release {
  return new helm.Release(
    name,
    {
      name: rendered.releaseName,
      chart: rendered.chart,
      version: rendered.version,
      repositoryOpts: { repo: rendered.repo },
      namespace: rendered.namespace,
      createNamespace: true,
      values: rendered.values,
      // Nodes can take minutes to become Ready (and, with Cilium, wait for the CNI itself).
      timeout: 1200,
      maxHistory: 5,
    },
    { ...opts, ignoreChanges: ["version", "values", "chart", "repositoryOpts"] },
  );
}
