import type { SynthResource } from "../../synth/types";
import type { CostLine } from "./estimate";
import type { CostAssumptions, RegionPrices } from "./prices";

/** The estimate's Fargate line (its assumption is stated only when a stack has it). */
export const fargateLineItem = "Fargate pods (assumed usage)";
/** The resource type Fargate capacity is declared with. */
export const fargateProfileType = "aws:eks/fargateProfile:FargateProfile";

/**
 * Fargate has no fixed charge: it bills each pod's vCPU and memory by the second. A profile is priced at the
 * assumed usage in `assumptions.fargatePerProfile`, per vCPU-hour and per GB-hour, and the line says so.
 */
export function fargateLines(
  profiles: readonly SynthResource[],
  prices: RegionPrices,
  assumptions: CostAssumptions,
): CostLine[] {
  const usage = assumptions.fargatePerProfile;
  const count = profiles.length;
  return [
    {
      item: fargateLineItem,
      basis: `${count} profile${count === 1 ? "" : "s"} × (${usage.vcpuHours} vCPU-h × $${prices.fargateVcpuHour} + ${usage.gbHours} GB-h × $${prices.fargateGbHour})`,
      monthly: count * (usage.vcpuHours * prices.fargateVcpuHour + usage.gbHours * prices.fargateGbHour),
      resources: profiles.map((profile) => profile.name),
      note: "billed per pod-second: the real figure follows what the selected namespaces run (see assumptions)",
    },
  ];
}

export function describeFargateAssumption(assumptions: CostAssumptions): string {
  const usage = assumptions.fargatePerProfile;
  return `each Fargate profile runs ${usage.vcpuHours} vCPU-hours and ${usage.gbHours} GB-hours a month: ${usage.workload}`;
}
