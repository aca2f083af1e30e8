import * as aws from "@pulumi/aws";
import * as helm from "@pulumi/kubernetes/helm/v3";
import * as pulumi from "@pulumi/pulumi";
import { eksAddon } from "../cluster/system-nodes";
import type { ClusterFacts } from "../facts";
import { RenderedHelmRelease, renderHelmRelease } from "./addon-files";
import type { ClusterGeneratorParams } from "./template";

/** What the chart bootstraps need: the same cluster parameters the ApplicationSets will see, and where to read addons/. */
export interface ChartBootstrap {
  readonly params: pulumi.Output<ClusterGeneratorParams>;
  readonly addonsDir: string;
}

/**
 * karpenter mode with Cilium: Cilium from its chart, then the EKS CoreDNS add-on (CoreDNS needs the pod network
 * Cilium brings). Cilium waits only for API access, neither for the EKS add-ons (their pods need the pod network)
 * nor for the node group (its nodes stay NotReady until Cilium runs): the DaemonSet starts as nodes join.
 */
export function bootstrapPodNetwork(
  name: string,
  facts: ClusterFacts,
  bootstrap: ChartBootstrap,
  opts: pulumi.CustomResourceOptions & { parent: pulumi.Resource; dependsOn: pulumi.Resource[] },
): { cilium: helm.Release; coreDns: aws.eks.Addon } {
  const cilium = bootstrapRelease(`${name}-cilium`, render(bootstrap, "cilium", "cilium"), opts);
  const coreDns = eksAddon(opts.parent, `${name}-coredns`, facts.clusterName, "coredns", facts.config.tags, {
    dependsOn: [cilium],
  });
  return { cilium, coreDns };
}

/** helm mode: the argo-cd chart once; Argo CD manages its own chart from git afterwards. */
export function bootstrapArgoCdChart(
  name: string,
  bootstrap: ChartBootstrap,
  opts: pulumi.CustomResourceOptions,
): helm.Release {
  return bootstrapRelease(`${name}-argocd`, render(bootstrap, "argo-cd", "argo-cd"), opts);
}

function render(
  bootstrap: ChartBootstrap,
  addon: string,
  applicationSetName: string,
): pulumi.Output<RenderedHelmRelease> {
  return bootstrap.params.apply((p) => renderHelmRelease(bootstrap.addonsDir, addon, applicationSetName, p));
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
