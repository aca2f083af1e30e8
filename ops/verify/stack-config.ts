import { PlatformConfig, resolveStackConfig } from "../../infra/config";
import { projectName, projectRoot, readStackConfig as readRawStackConfig } from "../../synth";
import { stackNames } from "../../synth/stacks";

/**
 * The validated config of a stack read from `Pulumi.<stack>.yaml` (through the synth's reader), without the Pulumi
 * engine: the live check and the teardown CLI run outside `pulumi up`.
 */
export function readStackConfig(stack: string): PlatformConfig {
  if (!stackNames(projectRoot).includes(stack)) {
    throw new Error(`no Pulumi.${stack}.yaml: stacks here are ${stackNames(projectRoot).join(", ")}`);
  }
  const project = projectName();
  return resolveStackConfig(readRawStackConfig(stack), { project, stack });
}
