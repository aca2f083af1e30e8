import { existsSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { parse } from "yaml";
import { ConfigError, projectConfigValues } from "../infra/config";
import { FoundationConfig, resolveFoundationConfig } from "../infra/foundation/config";
import {
  ciNames,
  foundationDir,
  foundationGitHubEnvironment,
  foundationProject,
  foundationStackReference,
  FoundationEnvironment,
  roleArn,
  stackOfReference,
} from "../infra/foundation/contract";
import { isRecord } from "../infra/objects";
import { readProjectName } from "../infra/project";
import { stackFile, stackNames } from "../synth/stacks";
import type { StackInfo } from "./stacks";

/**
 * The CI side of the foundation contract, decided offline from the stack files: which runner, role and region each
 * cluster stack's jobs use, and which foundation stacks exist. The workflows call this through pipeline/cli.ts, so
 * a stack whose environment has no runner fails in a GitHub-hosted job that names the key to fix, instead of a job
 * waiting forever for a runner label nobody serves.
 */

export interface FoundationStack {
  readonly name: string;
  /** Path relative to the repository root, for messages. */
  readonly file: string;
  readonly config: FoundationConfig;
}

/** What one job needs to run a cluster stack's preview or up/destroy. */
export interface ClusterStackCi {
  readonly stack: string;
  readonly environment: FoundationEnvironment;
  readonly foundation: string;
  readonly region: string;
  /** CodeBuild project of the environment's in-VPC runner; `runs-on: codebuild-<project>-<run id>-<attempt>`. */
  readonly runner: string;
  readonly deployRole: string;
  readonly previewRole: string;
}

/** What one job needs to run a foundation stack's preview or up (on a GitHub-hosted runner). */
export interface FoundationStackCi {
  readonly stack: string;
  readonly region: string;
  /** GitHub environment whose jobs may assume the foundation's deploy role. */
  readonly environment: string;
  readonly deployRole: string;
  readonly previewRole: string;
}

export class CiConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CiConfigError";
  }
}

/** Every foundation stack under `<root>/foundation`, validated with the foundation program's own rules. */
export function discoverFoundationStacks(rootDir: string): FoundationStack[] {
  const dir = join(rootDir, foundationDir);
  if (!existsSync(join(dir, "Pulumi.yaml"))) return [];
  const project = readProjectName(dir);
  if (project !== foundationProject)
    throw new CiConfigError(
      `${foundationDir}/Pulumi.yaml names the project ${project}; cluster stacks reference ${foundationProject}`,
    );
  return stackNames(dir).map((name) => {
    const file = join(foundationDir, basename(stackFile(dir, name)));
    const document = parse(readFileSync(join(rootDir, file), "utf8")) as unknown;
    const all = isRecord(document) && isRecord(document.config) ? document.config : {};
    const region = all["aws:region"] === undefined ? undefined : String(all["aws:region"]);
    try {
      const config = resolveFoundationConfig(projectConfigValues(all, project), {
        project,
        stack: name,
        region,
      });
      return { name, file, config };
    } catch (error) {
      if (error instanceof ConfigError) throw new CiConfigError(`${file}: ${error.message}`);
      throw error;
    }
  });
}

/** The foundation stack reference a cluster stack file names (or the default for its region). */
export function foundationReferenceOf(stack: StackInfo): { reference: string; explicit: boolean } {
  const configured = isRecord(stack.config.foundation) ? stack.config.foundation.stack : undefined;
  if (typeof configured === "string") return { reference: configured, explicit: true };
  return {
    reference: foundationStackReference("<organization>", stack.region ?? "<aws:region>"),
    explicit: false,
  };
}

/**
 * Resolves a cluster stack to its foundation's runner and roles. Errors name the stack file key (or the foundation
 * key) and what to change.
 */
export function clusterStackCi(
  stack: StackInfo,
  foundations: readonly FoundationStack[],
  project: string,
): ClusterStackCi {
  const { reference, explicit } = foundationReferenceOf(stack);
  const key = `${project}:foundation.stack`;
  const foundationName = stackOfReference(reference);
  const foundation = foundations.find((candidate) => candidate.name === foundationName);
  if (!foundation) {
    const known = foundations.map((candidate) => candidate.file).join(", ") || "none";
    throw new CiConfigError(
      `${stack.file}: ${key} = ${JSON.stringify(reference)}${explicit ? "" : " (the default for its region)"} names the foundation stack ${foundationName}, but there is no ${foundationDir}/Pulumi.${foundationName}.yaml (foundation stacks here: ${known}); set ${key} to one of them, or add that foundation stack (README, day one)`,
    );
  }
  if (stack.region !== foundation.config.region)
    throw new CiConfigError(
      `${stack.file}: aws:region = ${JSON.stringify(stack.region ?? null)} but its foundation ${foundation.file} is in ${foundation.config.region}; a cluster must live in its foundation's region: fix aws:region or point ${key} at a foundation in ${stack.region}`,
    );
  const environment = stack.environment as FoundationEnvironment | undefined;
  const served = foundation.config.environments.map((entry) => entry.name);
  if (environment === undefined || !served.includes(environment)) {
    throw new CiConfigError(
      `${stack.file}: ${project}:environment = ${JSON.stringify(environment ?? null)} has no runner: ${foundation.file} serves ${served.join(", ")} (${foundation.config.project}:environments); add \`${environment ?? "<environment>"}: {}\` under ${foundation.config.project}:environments there and deploy the foundation first`,
    );
  }
  const names = ciNames(foundation.config.namePrefix, environment);
  const arn = (role: string) => roleArn(foundation.config.accountId, foundation.config.region, role);
  return {
    stack: stack.name,
    environment,
    foundation: foundation.name,
    region: foundation.config.region,
    runner: names.runnerProject,
    deployRole: arn(names.deployRole),
    previewRole: arn(names.previewRole),
  };
}

/**
 * Why a run started by the GitHub account `actorId` (`github.actor_id`) gets no build from the runner of `ci`, or
 * undefined when its runner's webhook admits that account (`github.runnerActorIds` of the foundation). Checked in a
 * GitHub-hosted job first, so the job that needs the runner fails or is skipped with this message instead of
 * waiting for a build the webhook never starts.
 */
export function runnerActorProblem(
  ci: ClusterStackCi,
  foundations: readonly FoundationStack[],
  actorId: string,
): string | undefined {
  if (!/^[1-9]\d*$/.test(actorId))
    throw new CiConfigError(
      `--actor-id ${JSON.stringify(actorId)} is not a GitHub account id; pass github.actor_id`,
    );
  const foundation = foundations.find((candidate) => candidate.name === ci.foundation);
  if (!foundation) throw new CiConfigError(`no foundation stack ${ci.foundation} for ${ci.stack}`);
  const admitted = foundation.config.github.runnerActorIds;
  if (admitted.includes(actorId)) return undefined;
  return `${ci.stack}: the ${ci.environment} runner (${ci.runner}) starts builds only for the GitHub accounts in ${foundation.config.project}:github.runnerActorIds of ${foundation.file} (${admitted.join(", ")}), and this run was started by account ${actorId}; add ${actorId} there and deploy the foundation, or let a listed account push or open the pull request (docs/pipeline.md, "Runners")`;
}

export function foundationStackCi(foundation: FoundationStack): FoundationStackCi {
  const names = ciNames(foundation.config.namePrefix, "foundation");
  const arn = (role: string) => roleArn(foundation.config.accountId, foundation.config.region, role);
  return {
    stack: foundation.name,
    region: foundation.config.region,
    environment: foundationGitHubEnvironment(foundation.name),
    deployRole: arn(names.deployRole),
    previewRole: arn(names.previewRole),
  };
}
