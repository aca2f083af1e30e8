import { z } from "zod";

/**
 * `compute.fargateProfiles`: namespaces (optionally narrowed by labels) whose pods EKS runs on AWS Fargate instead
 * of nodes. Allowed in both compute modes: EKS runs Fargate and Auto Mode side by side in one cluster (User Guide,
 * auto-migrate-fargate), and Fargate nodes run their own VPC CNI (alternate CNIs never apply to them), so Cilium on
 * karpenter mode's nodes does not reach them.
 * Limits and wildcards: EKS User Guide fargate-profile, fargate; quotas: AWS General Reference, EKS service quotas.
 */

/** EKS service quota "Fargate profiles per cluster" (default 10; adjustable only through a quota increase). */
export const fargateProfilesPerCluster = 10;
/** "You can add up to five selectors to each profile." */
export const fargateSelectorsPerProfile = 5;
/** EKS service quota "Label pairs per Fargate profile selector" (default 5). */
export const fargateLabelsPerSelector = 5;

/**
 * Namespaces that must never be routed to Fargate, with why. Fargate runs no DaemonSets, no privileged containers,
 * no EBS volumes, no hostNetwork/hostPort pods, and EKS Pod Identity does not reach Fargate pods, so every namespace
 * whose add-on has a Pod Identity association is here too (a test checks each synthesized association). The policy
 * pack's `eks-fargate-namespaces` default list is kept equal to these keys (a test asserts it).
 */
export const fargateForbiddenNamespaces: Readonly<Record<string, string>> = {
  "kube-system":
    "add-on DaemonSets run here (VPC CNI, kube-proxy, EBS CSI node, Pod Identity agent, Cilium) and Karpenter's controller relies on Pod Identity",
  argocd:
    "Argo CD deploys every add-on; the platform keeps it on its own nodes, under the network policy and runtime detection that do not reach Fargate pods",
  karpenter:
    "Karpenter's controller authenticates with EKS Pod Identity, which Fargate pods cannot use (upstream's Fargate option needs IRSA, which the platform does not set up)",
  falco: "Falco is a privileged eBPF DaemonSet",
  cilium: "Cilium is a privileged eBPF DaemonSet",
  kubecost: "Kubecost keeps its data on EBS volumes",
  monitoring:
    "node exporters run as DaemonSets with host access and Prometheus keeps its data on EBS volumes",
  "external-dns":
    "ExternalDNS gets its Route 53 permissions through EKS Pod Identity, which Fargate pods cannot use",
  "external-secrets":
    "External Secrets gets its Secrets Manager permissions through EKS Pod Identity, which Fargate pods cannot use",
};

/** Fargate's selector wildcards: `*` any run of characters (also none), `?` exactly one character. */
export function fargatePatternMatches(pattern: string, value: string): boolean {
  let regex = "^";
  for (const char of pattern) {
    if (char === "*") regex += ".*";
    else if (char === "?") regex += ".";
    else regex += char.replace(/[.+^${}()|[\]\\-]/g, "\\$&");
  }
  return new RegExp(`${regex}$`).test(value);
}

/** A namespace selector: a Kubernetes namespace name in which `*` and `?` may stand for characters. */
const namespacePattern = /^[a-z0-9*?]([a-z0-9*?-]{0,61}[a-z0-9*?])?$/;
/** A label key or value with optional prefix (`example.com/tier`), wildcards allowed as in namespaces. */
const labelKeyPattern =
  /^([a-z0-9*?]([a-z0-9*?.-]{0,251}[a-z0-9*?])?\/)?[A-Za-z0-9*?]([A-Za-z0-9*?._-]{0,61}[A-Za-z0-9*?])?$/;
const labelValuePattern = /^([A-Za-z0-9*?]([A-Za-z0-9*?._-]{0,61}[A-Za-z0-9*?])?)?$/;
/**
 * EKS labels each Fargate pod `eks.amazonaws.com/fargate-profile=<name>`, so the name must be a valid label value;
 * lowercase DNS-label form keeps it readable in ARNs and role conditions.
 */
const profileNamePattern = /^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;

const selectorSchema = z.strictObject({
  namespace: z
    .string()
    .regex(
      namespacePattern,
      "must be a Kubernetes namespace name (lowercase letters, digits, hyphens, at most 63 characters), optionally with the wildcards * and ?, e.g. batch or batch-*",
    ),
  labels: z
    .record(
      z
        .string()
        .regex(labelKeyPattern, "label keys must be Kubernetes label keys such as app or example.com/tier"),
      z
        .string()
        .regex(labelValuePattern, "label values must be Kubernetes label values (at most 63 characters)"),
    )
    .refine((labels) => Object.keys(labels).length <= fargateLabelsPerSelector, {
      message: `EKS allows at most ${fargateLabelsPerSelector} label pairs per Fargate selector; drop labels or split the selector`,
    })
    .optional(),
});

const profileSchema = z.strictObject({
  name: z
    .string()
    .regex(
      profileNamePattern,
      "must be 1–63 lowercase letters, digits and hyphens, starting with a letter and ending with a letter or digit (EKS labels every pod with it), e.g. batch",
    ),
  selectors: z
    .array(selectorSchema)
    .min(1, "a Fargate profile needs at least one selector, e.g. [{ namespace: batch }]")
    .max(
      fargateSelectorsPerProfile,
      `EKS allows at most ${fargateSelectorsPerProfile} selectors per Fargate profile; split them over two profiles or use a wildcard such as batch-*`,
    ),
});

export type FargateProfileConfig = z.output<typeof profileSchema>;

export const fargateProfilesSchema = z
  .array(profileSchema)
  .max(
    fargateProfilesPerCluster,
    `EKS allows ${fargateProfilesPerCluster} Fargate profiles per cluster (the default service quota, which this platform keeps to); merge profiles, up to ${fargateSelectorsPerProfile} selectors each, or select several namespaces with one wildcard such as team-*`,
  )
  .default([])
  .superRefine((profiles, ctx) => {
    const seen = new Set<string>();
    profiles.forEach((profile, index) => {
      if (seen.has(profile.name)) {
        ctx.addIssue({
          code: "custom",
          path: [index, "name"],
          message: `another Fargate profile is already named "${profile.name}"; EKS needs unique names per cluster — rename one`,
        });
      }
      seen.add(profile.name);
      profile.selectors.forEach((selector, selectorIndex) => {
        const hits = Object.keys(fargateForbiddenNamespaces).filter((namespace) =>
          fargatePatternMatches(selector.namespace, namespace),
        );
        if (hits.length === 0) return;
        ctx.addIssue({
          code: "custom",
          path: [index, "selectors", selectorIndex, "namespace"],
          message: `would put ${hits.join(", ")} on Fargate, which runs no DaemonSets, privileged pods or EBS volumes and gives pods no Pod Identity (${hits.length === 1 ? `${hits[0]}: ${fargateForbiddenNamespaces[hits[0]]}` : "see the README's Fargate section"}); select only your workload namespaces, e.g. batch, with no wildcard that matches a platform namespace`,
        });
      });
    });
  });
