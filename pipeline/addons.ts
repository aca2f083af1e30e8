import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { resolvePlatformConfig } from "../infra/config";
import { readApplicationSets, renderHelmRelease } from "../infra/gitops/addon-files";
import {
  clusterSecretAnnotations,
  clusterSecretData,
  clusterSecretLabels,
  InfrastructureValues,
} from "../infra/gitops/cluster-secret";
import { clusterGeneratorParams } from "../infra/gitops/template";
import { RenderJob } from "./render";
import { StackInfo } from "./stacks";

/**
 * Which charts the gate renders: for every stack, the ApplicationSets under addons/ whose cluster generator selects
 * that stack's cluster Secret (the labels the program writes), resolved with the program's own template and
 * values code (infra/gitops) so the gate sees exactly the chart, version and merged values Argo CD would install.
 * Identical renders across stacks are done once.
 */

type Tree = Record<string, unknown>;

interface LabelSelectorRequirement {
  key: string;
  operator: string;
  values?: string[];
}

/** Kubernetes label-selector semantics (matchLabels AND matchExpressions); an empty selector selects everything. */
export function selectorMatches(selector: unknown, labels: Readonly<Record<string, string>>): boolean {
  const { matchLabels = {}, matchExpressions = [] } = (selector ?? {}) as {
    matchLabels?: Record<string, string>;
    matchExpressions?: LabelSelectorRequirement[];
  };
  const labelsMatch = Object.entries(matchLabels).every(([key, value]) => labels[key] === String(value));
  const expressionsMatch = matchExpressions.every(({ key, operator, values = [] }) => {
    switch (operator) {
      case "In":
        return key in labels && values.includes(labels[key]);
      case "NotIn":
        return !(key in labels) || !values.includes(labels[key]);
      case "Exists":
        return key in labels;
      case "DoesNotExist":
        return !(key in labels);
      default:
        throw new Error(`unknown label selector operator ${operator}`);
    }
  });
  return labelsMatch && expressionsMatch;
}

/** true when any `clusters` generator of the ApplicationSet selects a cluster Secret with these labels. */
export function applicationSetSelects(
  applicationSet: Tree,
  labels: Readonly<Record<string, string>>,
): boolean {
  const generators = ((applicationSet.spec as Tree | undefined)?.generators as Tree[] | undefined) ?? [];
  return generators.some((generator) => {
    const clusters = generator.clusters as Tree | undefined;
    return clusters !== undefined && selectorMatches(clusters.selector, labels);
  });
}

function hasChartSource(applicationSet: Tree): boolean {
  const spec = ((applicationSet.spec as Tree).template as Tree).spec as Tree;
  const sources = (spec.sources as Tree[] | undefined) ?? (spec.source ? [spec.source as Tree] : []);
  return sources.some((source) => typeof source.chart === "string");
}

/**
 * Stand-ins for the values only a deployed stack knows (account, ARNs, subnet ids). They feed templated values
 * such as Karpenter's clusterName; no chart chooses its images from them. The same for every stack, so stacks
 * that differ only in such facts share one render.
 */
export const PLACEHOLDER_CLUSTER = "image-gate";

export function placeholderInfrastructure(
  region: string,
  clusterName = PLACEHOLDER_CLUSTER,
): InfrastructureValues {
  const account = "123456789012";
  return {
    accountId: account,
    partition: "aws",
    clusterName,
    clusterArn: `arn:aws:eks:${region}:${account}:cluster/${clusterName}`,
    endpoint: `https://0123456789ABCDEF0123456789ABCDEF.gr7.${region}.eks.amazonaws.com`,
    vpcId: "vpc-0123456789abcdef0",
    privateSubnetIds: ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1", "subnet-0123456789abcdef2"],
    clusterSecurityGroupId: "sg-0123456789abcdef0",
    karpenterNodeRoleName: `${clusterName}-karpenter-node`,
    karpenterControllerRoleArn: `arn:aws:iam::${account}:role/${clusterName}-karpenter`,
    karpenterInterruptionQueueName: `${clusterName}-karpenter`,
    ciliumOperatorRoleArn: `arn:aws:iam::${account}:role/${clusterName}-cilium-operator`,
    awsLoadBalancerControllerRoleArn: `arn:aws:iam::${account}:role/${clusterName}-aws-load-balancer-controller`,
    externalDnsRoleArn: `arn:aws:iam::${account}:role/${clusterName}-external-dns`,
    externalSecretsRoleArn: `arn:aws:iam::${account}:role/${clusterName}-external-secrets`,
  };
}

export interface StackRenders {
  readonly jobs: RenderJob[];
  /** Per stack, the add-ons (ApplicationSet names) whose chart is rendered. */
  readonly selected: Record<string, string[]>;
}

/** Every Helm render the gate needs for these stacks, deduplicated by (chart, version, values). */
export function renderJobsForStacks(
  stacks: readonly StackInfo[],
  addonsDir: string,
  project: string,
): StackRenders {
  const addonNames = existsSync(addonsDir)
    ? readdirSync(addonsDir, { withFileTypes: true })
        .filter(
          (entry) => entry.isDirectory() && existsSync(join(addonsDir, entry.name, "applicationset.yaml")),
        )
        .map((entry) => entry.name)
        .sort()
    : [];
  const byKey = new Map<string, { job: RenderJob; stacks: string[] }>();
  const selected: Record<string, string[]> = {};
  for (const stack of stacks) {
    const config = resolvePlatformConfig(stack.config, { project, stack: stack.name, region: stack.region });
    const infrastructure = placeholderInfrastructure(config.region);
    const secretData = clusterSecretData(config, PLACEHOLDER_CLUSTER, infrastructure.clusterArn);
    const labels = clusterSecretLabels(config);
    const params = clusterGeneratorParams({
      name: secretData.name,
      server: secretData.server,
      labels,
      annotations: clusterSecretAnnotations(config, infrastructure),
    });
    selected[stack.name] = [];
    for (const addon of addonNames) {
      for (const [name, applicationSet] of readApplicationSets(addonsDir, addon)) {
        if (!applicationSetSelects(applicationSet, labels) || !hasChartSource(applicationSet)) continue;
        const release = renderHelmRelease(addonsDir, addon, name, params);
        const job: RenderJob = {
          addon: name,
          variant: stack.name,
          coordinates: {
            repo: release.repo,
            chart: release.chart,
            version: release.version,
            namespace: release.namespace,
            releaseName: release.releaseName,
          },
          valuesFiles: [],
          values: release.values,
        };
        selected[stack.name].push(name);
        const key = JSON.stringify([name, job.coordinates, job.values]);
        const existing = byKey.get(key);
        if (existing) existing.stacks.push(stack.name);
        else byKey.set(key, { job, stacks: [stack.name] });
      }
    }
  }
  const jobs = [...byKey.values()].map(({ job, stacks: names }) => ({ ...job, variant: names.join(", ") }));
  return { jobs, selected };
}
