import { valueAt } from "../infra/objects";
import { foundationProject } from "../infra/foundation/contract";
import type { SynthResource, SynthResult } from "./types";

function isFoundation(result: SynthResult): boolean {
  return result.project === foundationProject;
}

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

/** What a reviewer checks first in a foundation stack: the VPC, the CI trust and the runners' placement. */
export function foundationSummary(result: SynthResult): [string, string][] {
  const ofType = (type: string) => result.resources.filter((resource) => resource.type === type);
  const vpc = ofType("aws:ec2/vpc:Vpc")[0]?.inputs ?? {};
  const blocks = ofType("aws:ec2/vpcIpv4CidrBlockAssociation:VpcIpv4CidrBlockAssociation").map((block) =>
    String(block.inputs.cidrBlock),
  );
  const subnets = ofType("aws:ec2/subnet:Subnet");
  const runnerSubnets = subnets.filter((subnet) => valueAt(subnet.inputs, ["tags", "tier"]) === "runner");
  const publicIps = subnets.filter((subnet) => subnet.inputs.mapPublicIpOnLaunch !== false).length;
  const providers = ofType("aws:iam/openIdConnectProvider:OpenIdConnectProvider");
  const subjects = ofType("aws:iam/role:Role")
    .map((role) => {
      const trust = JSON.parse(String(role.inputs.assumeRolePolicy ?? "{}")) as {
        Statement?: { Condition?: { StringEquals?: Record<string, string> } }[];
      };
      const sub = trust.Statement?.[0]?.Condition?.StringEquals?.["token.actions.githubusercontent.com:sub"];
      return sub ? `${role.inputs.name} ← ${sub}` : undefined;
    })
    .filter((line): line is string => line !== undefined);
  const projects = ofType("aws:codebuild/project:Project");
  return [
    ["VPC", `${vpc.cidrBlock} + cluster blocks ${blocks.join(", ") || "none"}`],
    [
      "Runner subnets",
      `${runnerSubnets.map((subnet) => subnet.inputs.cidrBlock).join(", ")}; public IPs on launch: ${publicIps === 0 ? "none" : `${publicIps} subnet(s)`}`,
    ],
    ["NAT gateways", String(ofType("aws:ec2/natGateway:NatGateway").length)],
    ["GitHub OIDC provider", providers.length > 0 ? "declared here" : "reused (github.oidcProviderArn)"],
    ["CI roles (OIDC sub)", subjects.join("; ")],
    [
      "Runners",
      projects
        .map(
          (project) =>
            `${project.inputs.name} (${valueAt(project.inputs, ["vpcConfig", "subnets"]) ? "in VPC" : "NOT in a VPC"})`,
        )
        .join(", "),
    ],
    [
      "Destroy guard",
      ofType("command:local:Command").some((command) =>
        String(command.inputs.delete).includes("ops/foundation"),
      )
        ? "on (refuses while cluster subnets remain)"
        : "NONE",
    ],
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
    ...(isFoundation(result) ? foundationSummary(result) : securitySummary(result)).map(
      ([label, value]) => `  ${label.padEnd(20)} ${value}`,
    ),
    ...fargateSummary(result),
  ];
  return lines.join("\n");
}
