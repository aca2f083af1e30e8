import { existsSync } from "node:fs";
import { isRecord } from "../infra/objects";
import { projectRoot } from "../infra/project";
import { anyStackFile } from "./stacks";
import type { SynthOptions } from "./index";
import type { SynthResult } from "./types";

/** What a self-managed backend calls every stack's organization; the offline synth runs as it. */
export const synthOrganization = "organization";

type Synthesize = (stack: string, options?: SynthOptions) => Promise<SynthResult>;

/** The sample stack a fully qualified reference names, when it is one of this project's stack files. */
function localStack(project: string, reference: string): string | undefined {
  const [organization, referencedProject, stack] = reference.split("/");
  if (organization !== synthOrganization || referencedProject !== project) return undefined;
  return existsSync(anyStackFile(projectRoot, stack)) ? stack : undefined;
}

/**
 * The outputs a stack's fleet references would find, as if the referenced stacks were deployed in the order a team
 * deploys them: the hub first without spokes, then each spoke (reading that hub), then the hub again. A reference
 * to a stack with no local file resolves to nothing (a stack that does not exist), so the program's own message is
 * what the user sees.
 */
export async function referencedStackOutputs(
  project: string,
  rawConfig: Readonly<Record<string, unknown>>,
  synthesize: Synthesize,
): Promise<Record<string, Record<string, unknown>>> {
  const fleet = rawConfig[`${project}:fleet`];
  if (!isRecord(fleet)) return {};
  const outputs: Record<string, Record<string, unknown>> = {};
  if (fleet.role === "spoke" && typeof fleet.hub === "string") {
    const hub = localStack(project, fleet.hub);
    // The hub as it was before it listed any spoke: its fleetHub output does not depend on them.
    if (hub) outputs[fleet.hub] = (await synthesize(hub, { overrides: { fleet: { spokes: [] } } })).outputs;
  }
  if (fleet.role === "hub" && Array.isArray(fleet.spokes)) {
    for (const reference of fleet.spokes) {
      const spoke = typeof reference === "string" ? localStack(project, reference) : undefined;
      if (spoke) outputs[reference as string] = (await synthesize(spoke)).outputs;
    }
  }
  return outputs;
}
