import { valueAt } from "../infra/objects";
import type { SynthResource, SynthResult } from "./types";

/** Resource counts by type, custom resources only (components have no cloud footprint). */
export function countByType(resources: readonly SynthResource[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const resource of resources.filter((item) => item.custom)) {
    counts.set(resource.type, (counts.get(resource.type) ?? 0) + 1);
  }
  return new Map([...counts.entries()].sort(([a], [b]) => a.localeCompare(b)));
}

function onlyOf(resources: readonly SynthResource[], type: string): SynthResource | undefined {
  return resources.find((resource) => resource.type === type);
}

/** The security settings a reviewer checks first, read from the synthesized cluster, not from config. */
export function securitySummary(result: SynthResult): [string, string][] {
  const cluster = onlyOf(result.resources, "aws:eks/cluster:Cluster")?.inputs ?? {};
  const subnets = result.resources.filter((resource) => resource.type === "aws:ec2/subnet:Subnet");
  const privateSubnets = subnets.filter(
    (subnet) => valueAt(subnet.inputs, ["tags", "kubernetes.io/role/internal-elb"]) === "1",
  );
  const zones = new Set(privateSubnets.map((subnet) => String(subnet.inputs.availabilityZone)));
  const publicCidrs = (valueAt(cluster, ["vpcConfig", "publicAccessCidrs"]) as string[] | undefined) ?? [];
  const logTypes = (cluster.enabledClusterLogTypes as string[] | undefined) ?? [];
  const encrypted = (
    (valueAt(cluster, ["encryptionConfig", "resources"]) as string[] | undefined) ?? []
  ).includes("secrets");
  return [
    ["Kubernetes", `${cluster.version} (${valueAt(cluster, ["upgradePolicy", "supportType"])} support)`],
    [
      "Compute",
      valueAt(cluster, ["computeConfig", "enabled"]) === true
        ? "EKS Auto Mode"
        : "managed system node group + Karpenter",
    ],
    [
      "API endpoint",
      valueAt(cluster, ["vpcConfig", "endpointPublicAccess"]) === true
        ? `private + public from ${publicCidrs.join(", ")}`
        : "private only",
    ],
    ["Secrets encryption", encrypted ? "KMS envelope encryption (customer key)" : "NONE"],
    ["Control-plane logs", logTypes.length > 0 ? logTypes.join(", ") : "NONE"],
    [
      "Authentication",
      `${valueAt(cluster, ["accessConfig", "authenticationMode"])}, creator admin ${
        valueAt(cluster, ["accessConfig", "bootstrapClusterCreatorAdminPermissions"]) === false ? "off" : "ON"
      }, ${result.resources.filter((resource) => resource.type === "aws:eks/accessEntry:AccessEntry").length} access entries`,
    ],
    [
      "Private subnets",
      `${privateSubnets.map((subnet) => subnet.inputs.cidrBlock).join(", ")} across ${zones.size} AZs`,
    ],
    ["Deletion protection", cluster.deletionProtection === true ? "on" : "off"],
  ];
}

/**
 * What a reviewer must know about a stack that routes namespaces to Fargate: which ones, and what the platform's
 * node agents cannot see there. Empty for a stack without profiles.
 */
export function fargateSummary(result: SynthResult): string[] {
  const profiles = result.resources.filter(
    (resource) => resource.type === "aws:eks/fargateProfile:FargateProfile",
  );
  if (profiles.length === 0) return [];
  const namespacesOf = (profile: SynthResource) =>
    ((profile.inputs.selectors as { namespace?: string }[] | undefined) ?? []).map((selector) =>
      String(selector.namespace),
    );
  const all = [...new Set(profiles.flatMap(namespacesOf))];
  return [
    "Fargate:",
    ...profiles.map(
      (profile) =>
        `  profile ${String(profile.inputs.fargateProfileName)}: namespaces ${namespacesOf(profile).join(", ")}; ${((profile.inputs.subnetIds as unknown[] | undefined) ?? []).length} subnets`,
    ),
    "  Falco and Cilium run as DaemonSets on nodes and cannot observe Fargate pods: no runtime detection, no Cilium",
    `  network policy and no Hubble flows for pods in ${all.join(", ")}; those pods get no EKS Pod Identity either.`,
  ];
}

export function formatSummary(result: SynthResult): string {
  const counts = countByType(result.resources);
  const total = [...counts.values()].reduce((sum, count) => sum + count, 0);
  const width = Math.max(...[...counts.keys()].map((type) => type.length));
  const lines = [
    `Stack ${result.stack}: ${total} resources`,
    ...[...counts.entries()].map(([type, count]) => `  ${type.padEnd(width)}  ${count}`),
    "Security settings:",
    ...securitySummary(result).map(([label, value]) => `  ${label.padEnd(20)} ${value}`),
    ...fargateSummary(result),
  ];
  return lines.join("\n");
}
