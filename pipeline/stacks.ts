import { existsSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { parse } from "yaml";
import { projectConfigValues } from "../infra/config";
import { isRecord } from "../infra/objects";
import { loweredLevels, packSettingsName } from "../policies/lib/settings";
import { rules } from "../policies/pack";
import { projectNameFromYaml, readProjectName } from "../infra/project";
import { stackFile, stackNameFromFile, stackNames } from "../synth/stacks";

/**
 * Stack discovery: the pipeline's list of stacks is the set of `Pulumi.<stack>.yaml` files at the repository
 * root, so adding a stack file is all it takes to get it previewed (no workflow edit, no list to keep in sync).
 */

/** What the workflows need to know about one stack, read straight from its stack file. */
export interface StackInfo {
  readonly name: string;
  readonly file: string;
  /** `<project>:environment` (dev|staging|prod); undefined when the file does not say. */
  readonly environment?: string;
  /** Last day the stack may live (YYYY-MM-DD), `<project>:expiresOn` (the program also tags resources with it). */
  readonly expiresOn?: string;
  /** This project's config keys without the `<project>:` prefix, as infra/config's resolvePlatformConfig takes them. */
  readonly config: Readonly<Record<string, unknown>>;
  /** `aws:region`. */
  readonly region?: string;
}

export { stackNameFromFile };

export { projectNameFromYaml, readProjectName };

function asDateString(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  // A YAML 1.1 parser may hand back a Date for an unquoted date; keep only the calendar day.
  if (value instanceof Date) return value.toISOString().slice(0, 10);
  return String(value);
}

function asRecord(value: unknown): Record<string, unknown> {
  return isRecord(value) ? value : {};
}

/** Reads one stack file's text. Only this project's keys and `aws:region` matter. */
export function parseStackFile(name: string, file: string, text: string, project: string): StackInfo {
  const document = asRecord(parse(text));
  const all = asRecord(document.config);
  const config = projectConfigValues(all, project);
  const environment = config.environment;
  const expiresOn = asDateString(config.expiresOn);

  return {
    name,
    file,
    environment: environment === undefined ? undefined : String(environment),
    expiresOn,
    config,
    region: all["aws:region"] === undefined ? undefined : String(all["aws:region"]),
  };
}

/** Every stack at `rootDir`, sorted by name so the matrix order is stable between runs. */
export function discoverStacks(rootDir: string): StackInfo[] {
  const project = readProjectName(rootDir);
  return stackNames(rootDir).map((name) => {
    const file = stackFile(rootDir, name);
    return parseStackFile(name, basename(file), readFileSync(file, "utf8"), project);
  });
}

/** The policy pack config the workflows pass to `pulumi preview/up --policy-pack-config` for a stack. */
export function policyConfigPath(stack: string): string {
  return `policies/config/${stack}.json`;
}

/**
 * The policy config files (relative to `rootDir`) missing for `stacks`. The Pulumi CLI fails on a missing
 * `--policy-pack-config` file, so a stack file without one would break its preview and deploy.
 */
/**
 * What is wrong with the stacks' pack configs beyond what the CLI checks: `pack-settings.environment` other than the
 * stack's own environment (a prod stack judged as dev), or a rule lowered below the level its environment needs
 * (`loweredLevels`). CrossGuard honours both silently, so the pipeline refuses them before any preview runs.
 */
export function policyConfigProblems(rootDir: string, stacks: readonly StackInfo[]): string[] {
  const problems: string[] = [];
  for (const stack of stacks) {
    const file = policyConfigPath(stack.name);
    if (!existsSync(join(rootDir, file))) continue;
    const config = JSON.parse(readFileSync(join(rootDir, file), "utf8")) as Record<string, unknown>;
    const settings = config[packSettingsName] as { environment?: unknown } | undefined;
    if (stack.environment !== undefined && settings?.environment !== stack.environment)
      problems.push(
        `${file}: ${packSettingsName}.environment is ${JSON.stringify(settings?.environment)}, but ${stack.file} says ${stack.environment}; set it to "${stack.environment}"`,
      );
    for (const problem of loweredLevels(config, rules)) problems.push(`${file}: ${problem}`);
  }
  return problems;
}

export function missingPolicyConfigs(rootDir: string, stacks: readonly StackInfo[]): string[] {
  return stacks
    .map((stack) => policyConfigPath(stack.name))
    .filter((path) => !existsSync(join(rootDir, path)));
}
