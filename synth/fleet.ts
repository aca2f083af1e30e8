import { existsSync } from "node:fs";
import * as path from "node:path";
import { foundationProject } from "../infra/foundation/contract";
import { isRecord } from "../infra/objects";
import { projectRoot } from "../infra/project";
import { anyStackFile, stackFile } from "./stacks";
import type { SynthOptions } from "./index";

type Outputs = (stack: string, options?: SynthOptions) => Promise<Record<string, unknown>>;

export interface FleetSynth {
  /** The offline synth's organization (what a self-managed backend calls it). */
  readonly organization: string;
  /** What a StackReference to this project's stack reads. */
  readonly outputsOf: Outputs;
  /** What a StackReference to a foundation stack reads. */
  readonly foundationOutputsOf: Outputs;
}

/** Foundation stacks of the examples (not deployed by this repository): the fleet's shared VPC. */
export const exampleFoundationDir = path.join("examples", "fleet", "foundation");

/** The sample stack a fully qualified reference names, when it is one of this project's stack files. */
function localStack(synth: FleetSynth, project: string, reference: string): string | undefined {
  const [organization, referencedProject, stack] = reference.split("/");
  if (organization !== synth.organization || referencedProject !== project) return undefined;
  return existsSync(anyStackFile(projectRoot, stack)) ? stack : undefined;
}

/**
 * The outputs a stack's references would find, as if the referenced stacks were deployed in the order a team
 * deploys them: foundation, hub, then each spoke (which reads its hub; the hub reads no spoke). A reference to a
 * stack with no local file resolves to nothing (a stack that does not exist), so the program's own message is what
 * the user sees. An example stack's foundation (examples/fleet/foundation/) is synthesized here too.
 */
export async function referencedStackOutputs(
  project: string,
  rawConfig: Readonly<Record<string, unknown>>,
  synth: FleetSynth,
): Promise<Record<string, Record<string, unknown>>> {
  const outputs: Record<string, Record<string, unknown>> = {};
  const foundation = rawConfig[`${project}:foundation`];
  if (isRecord(foundation) && typeof foundation.stack === "string") {
    const [organization, referencedProject, stack] = foundation.stack.split("/");
    const file = stackFile(path.join(projectRoot, exampleFoundationDir), stack);
    if (organization === synth.organization && referencedProject === foundationProject && existsSync(file))
      outputs[foundation.stack] = await synth.foundationOutputsOf(stack, { configFile: file });
  }
  const fleet = rawConfig[`${project}:fleet`];
  if (!isRecord(fleet)) return outputs;
  if (fleet.role === "spoke" && typeof fleet.hub === "string") {
    const hub = localStack(synth, project, fleet.hub);
    if (hub) outputs[fleet.hub] = await synth.outputsOf(hub);
  }
  return outputs;
}
