import type { ResourceValidationPolicy } from "@pulumi/policy";
import type * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import { argoApplicationTypes, helmValuesTypes } from "./identity";
import {
  at,
  atPath,
  configWithDefaults,
  type ConfigSchemaWithDefaults,
  elements,
  forType,
  globMatches,
  isExactVersion,
  show,
  UNKNOWN,
} from "./lib/values";

export type FargateProfileProps = pulumi.Unwrap<aws.eks.FargateProfileArgs>;
export const fargateProfileType = "aws:eks/fargateProfile:FargateProfile";

export interface FargateConfig {
  /** Namespaces whose workloads cannot run on Fargate: DaemonSets, EBS volumes, privileged pods, eBPF. */
  forbiddenNamespaces: string[];
}

/** The platform's own namespaces that must stay on nodes (the program's `compute.fargateProfiles` check agrees). */
export const defaultFargateForbiddenNamespaces = [
  "kube-system",
  "argocd",
  "karpenter",
  "falco",
  "cilium",
  "kubecost",
  "monitoring",
  "external-dns",
  "external-secrets",
];

const fargateConfigSchema = {
  properties: {
    forbiddenNamespaces: {
      type: "array",
      items: { type: "string" },
      default: defaultFargateForbiddenNamespaces,
    },
  },
} satisfies ConfigSchemaWithDefaults<FargateConfig>;

export const eksFargateNamespaces: ResourceValidationPolicy = {
  name: "eks-fargate-namespaces",
  description:
    "Fargate cannot run DaemonSets, EBS-backed volumes or privileged pods, and its pods get no Pod Identity: do not select namespaces such as kube-system, argocd, karpenter, falco, cilium, kubecost, monitoring, external-dns or external-secrets (or wildcards matching them) in a Fargate profile.",
  enforcementLevel: "mandatory",
  configSchema: fargateConfigSchema,
  validateResource: forType<FargateProfileProps>(fargateProfileType, (profile, args, reportViolation) => {
    const config = configWithDefaults<FargateConfig>(fargateConfigSchema, args.getConfig);
    const selectors = elements(at(profile, "selectors"));
    if (selectors === UNKNOWN) return;
    for (const selector of selectors ?? []) {
      const pattern = atPath(selector, "namespace");
      if (typeof pattern !== "string") continue;
      const hits = config.forbiddenNamespaces.filter((namespace) => globMatches(pattern, namespace));
      if (hits.length > 0) {
        reportViolation(
          `Selector namespace "${pattern}" puts ${hits.join(", ")} on Fargate, where DaemonSets never run, EBS volumes and privileged pods are refused and pods get no Pod Identity; leave those namespaces to EC2/Auto Mode nodes.`,
        );
      }
    }
  }),
};

/** Charts given as a local directory or archive are pinned by the repository commit itself. */
function isLocalChart(chart: unknown): boolean {
  return typeof chart === "string" && (/^(\.{1,2}\/|\/)/.test(chart) || chart.endsWith(".tgz"));
}

export const helmReleasePinned: ResourceValidationPolicy = {
  name: "helm-release-pinned",
  description:
    'Helm releases must pin an exact chart version (e.g. version: "9.1.0"), not a range or nothing, so a re-deploy cannot pull a different chart.',
  enforcementLevel: "mandatory",
  validateResource: forType(helmValuesTypes, (props, _args, reportViolation) => {
    const chart = atPath(props, "chart");
    if (chart === UNKNOWN || isLocalChart(chart)) return;
    const version = atPath(props, "version");
    if (version === UNKNOWN) return;
    if (typeof version !== "string" || !isExactVersion(version)) {
      reportViolation(
        `Chart ${show(chart)} has version ${version === undefined ? "unset (the newest is installed on every deploy)" : `"${show(version)}" (not an exact version)`}; pin an exact version such as "1.2.3" in the chart versions file Renovate reads.`,
      );
    }
  }),
};

export interface ArgoSourceConfig {
  /** Git revisions that float and therefore count as unpinned. */
  floatingGitRevisions: string[];
}

/** Every source of an Application or ApplicationSet template, with where it sits. */
function argoSources(type: string, props: unknown): { where: string; source: unknown }[] | typeof UNKNOWN {
  const spec = type.endsWith(":ApplicationSet")
    ? atPath(props, "spec", "template", "spec")
    : atPath(props, "spec");
  const prefix = type.endsWith(":ApplicationSet") ? "spec.template.spec" : "spec";
  if (spec === UNKNOWN) return UNKNOWN;
  const single = atPath(spec, "source");
  const multiple = elements(atPath(spec, "sources"));
  if (single === UNKNOWN || multiple === UNKNOWN) return UNKNOWN;
  return [
    ...(single === undefined ? [] : [{ where: `${prefix}.source`, source: single }]),
    ...(multiple ?? []).map((source, index) => ({ where: `${prefix}.sources[${index}]`, source })),
  ];
}

const argoSourceConfigSchema = {
  properties: { floatingGitRevisions: { type: "array", items: { type: "string" }, default: ["HEAD", ""] } },
} satisfies ConfigSchemaWithDefaults<ArgoSourceConfig>;

export const argocdSourcePinned: ResourceValidationPolicy = {
  name: "argocd-source-pinned",
  description:
    "Argo CD sources must say what they deploy: Helm chart sources pin an exact targetRevision (chart version), git sources name a branch, tag or commit (not HEAD or empty).",
  enforcementLevel: "mandatory",
  configSchema: argoSourceConfigSchema,
  validateResource: forType(argoApplicationTypes, (props, args, reportViolation) => {
    const config = configWithDefaults<ArgoSourceConfig>(argoSourceConfigSchema, args.getConfig);
    const sources = argoSources(args.type, props);
    if (sources === UNKNOWN) return;
    for (const { where, source } of sources) {
      const problem = argoSourceProblem(source, config);
      if (problem) reportViolation(`${where}: ${problem}`);
    }
  }),
};

export function argoSourceProblem(source: unknown, config: ArgoSourceConfig): string | undefined {
  const chart = atPath(source, "chart");
  const revision = atPath(source, "targetRevision");
  // ApplicationSet templates fill revisions per cluster ({{...}}); they are judged where they are defined.
  if (
    chart === UNKNOWN ||
    revision === UNKNOWN ||
    (typeof revision === "string" && revision.includes("{{"))
  ) {
    return undefined;
  }
  if (chart !== undefined) {
    if (typeof revision !== "string" || !isExactVersion(revision)) {
      return `Helm chart ${show(chart)} has targetRevision ${revision === undefined ? "unset (newest chart on every sync)" : `"${show(revision)}" (a range)`}; pin an exact chart version such as "1.2.3".`;
    }
    return undefined;
  }
  if (
    revision === undefined ||
    (typeof revision === "string" && config.floatingGitRevisions.includes(revision))
  ) {
    return `git source ${show(atPath(source, "repoURL"))} has targetRevision ${revision === undefined ? "unset (HEAD)" : `"${show(revision)}"`}, which follows whatever the default branch points to; set a branch, tag or commit explicitly.`;
  }
  return undefined;
}
