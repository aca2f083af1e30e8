import { isRecord } from "../infra/objects";
import type { StackInfo } from "./stacks";

/**
 * The order a fleet must be deployed and destroyed in (docs/gitops.md, Fleet): a spoke reads its hub's outputs and
 * writes its cluster Secret into the hub, so `pulumi up` runs every hub before its spokes; a hub refuses to be
 * destroyed while spokes are registered, so `pulumi destroy` runs every spoke before its hub. Stacks in one wave
 * do not depend on each other and may run in parallel. A spoke whose hub is not among the given stacks (another
 * repository, another project) depends on nothing here.
 */

/** The local stack a spoke's `fleet.hub` (`<organization>/<project>/<stack>`) names, if it is one of `stacks`. */
function localHub(stack: StackInfo, project: string, names: ReadonlySet<string>): string | undefined {
  const fleet = stack.config.fleet;
  if (!isRecord(fleet) || fleet.role !== "spoke" || typeof fleet.hub !== "string") return undefined;
  const [, hubProject, hubStack] = fleet.hub.split("/");
  return hubProject === project && hubStack !== undefined && names.has(hubStack) ? hubStack : undefined;
}

/** Waves of stack names for `pulumi up`: hubs (and every stack that is not a spoke of a local hub) first. */
export function fleetDeployWaves(stacks: readonly StackInfo[], project: string): string[][] {
  const names = new Set(stacks.map((stack) => stack.name));
  const first: string[] = [];
  const spokes: string[] = [];
  for (const stack of stacks) (localHub(stack, project, names) ? spokes : first).push(stack.name);
  return [first.sort(), spokes.sort()].filter((wave) => wave.length > 0);
}

/** Waves of stack names for `pulumi destroy`: spokes first, then their hubs and the rest. */
export function fleetDestroyWaves(stacks: readonly StackInfo[], project: string): string[][] {
  return fleetDeployWaves(stacks, project).reverse();
}
