import { readFileSync } from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { foundationDir, foundationProject, foundationStackReference } from "../infra/foundation/contract";
import { isRecord, valueAt } from "../infra/objects";
import { projectRoot, readProjectName } from "../infra/project";
import { programKey, SynthSession, type ProgramInputs } from "./cache";
import { platformMocks } from "./mocks";
import { referencedStackOutputs } from "./fleet";
import {
  anyStackFile,
  foundationStackOf,
  foundationSynthName,
  foundationSynthNames as foundationNamesIn,
  stackFile,
} from "./stacks";
import type { SynthResource, SynthResult } from "./types";

export type { SynthResource, SynthResult } from "./types";
export { SynthSession } from "./cache";
export { foundationStackOf, foundationSynthName } from "./stacks";

export { projectRoot };

export interface SynthOptions {
  /** Stack config file to read instead of Pulumi.<stack>.yaml (fixtures in tests). */
  readonly configFile?: string;
  /**
   * Outputs the cluster stack's StackReference reads, by reference name, instead of the synthesized foundation
   * (tests: a foundation in another region, without a runner, …). `{}`: no foundation exists.
   */
  readonly foundationOutputs?: Record<string, Record<string, unknown>>;
  /** The project whose keys bare override keys belong to (the foundation's, for a foundation stack). */
  readonly project?: string;
  /**
   * Config values to change, deep-merged over the file: keys without a ":" belong to this project
   * (e.g. { cluster: { kubernetesVersion: "1.35" } }), others are full keys (e.g. "aws:region").
   */
  readonly overrides?: Record<string, unknown>;
  /**
   * Outputs of stacks a fleet stack references, by fully qualified name, over those synthesized from the
   * referenced stacks' own files here (synth/fleet.ts), as `pulumi up` would find them deployed.
   */
  readonly stackOutputs?: Readonly<Record<string, Record<string, unknown>>>;
  /**
   * Work shared by the stacks of one run (`npm run synth`): each program runs once per set of inputs, and referenced
   * stacks' outputs may come from the session's cache folder. Without one, only referenced stacks' outputs are
   * shared, within this process.
   */
  readonly session?: SynthSession;
}

/** Reads the project name from Pulumi.yaml, as the CLI does. */
export function projectName(): string {
  return readProjectName(projectRoot);
}

/** The stack config file's `config:` map with overrides merged in, keyed by full config key. */
export function readStackConfig(stack: string, options: SynthOptions = {}): Record<string, unknown> {
  const project = options.project ?? projectName();
  const file = options.configFile ?? anyStackFile(projectRoot, stack);
  const document = (parse(readFileSync(file, "utf8")) ?? {}) as { config?: Record<string, unknown> };
  const config: Record<string, unknown> = { ...(document.config ?? {}) };
  for (const [key, value] of Object.entries(options.overrides ?? {})) {
    const fullKey = key.includes(":") ? key : `${project}:${key}`;
    config[fullKey] = deepMerge(config[fullKey], value);
  }
  return config;
}

function deepMerge(base: unknown, patch: unknown): unknown {
  if (!isRecord(base) || !isRecord(patch)) return patch;
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(patch)) merged[key] = deepMerge(base[key], value);
  return merged;
}

/** Minimal view of the protobuf RegisterResourceRequest that the mock monitor receives. */
interface RegisterRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getCustom(): boolean;
  getObject(): Parameters<typeof pulumi.runtime.deserializeProperties>[0];
  getDependenciesList(): string[];
  getPropertydependenciesMap(): {
    forEach(callback: (value: { getUrnsList(): string[] }, key: string) => void): void;
  };
  getProtect(): boolean;
  getRetainondelete(): boolean;
  getProvider(): string;
}
type RegisterCallback = (error: Error | null, response?: { getUrn(): string }) => void;
interface MonitorWithRegister {
  registerResource(request: RegisterRequest, callback: RegisterCallback): Promise<void>;
}

const foundationRoot = path.join(projectRoot, foundationDir);

/**
 * Where referenced stacks' outputs are shared when the caller gives no session (tests, library use): in this
 * process only, keyed by everything the referenced program reads, so a changed stack file is a new entry.
 */
const processSession = new SynthSession();

/**
 * Runs the real program (infra/platform.ts) for one stack under Pulumi's mocks, with no CLI, cloud or network, and
 * records every resource registration as the engine would see it: URN, parent, inputs and dependencies. The stacks
 * a cluster stack references (its foundation, fleet hub or spokes) are synthesized first, or their outputs are
 * taken from the session (synth/cache.ts), so its StackReferences read synthesized outputs;
 * `foundation-<stack>` synthesizes a foundation stack itself.
 */
export async function synthesize(stack: string, options: SynthOptions = {}): Promise<SynthResult> {
  const run = await prepare(stack, options);
  return options.session ? options.session.result(programKey(run), () => runProgram(run)) : runProgram(run);
}

/** Synthesizes a foundation stack (`foundation/Pulumi.<stack>.yaml`) under the foundation project's name. */
export function synthesizeFoundation(stack: string, options: SynthOptions = {}): Promise<SynthResult> {
  return synthesize(foundationSynthName(stack), options);
}

/**
 * What a StackReference to this stack reads: the outputs of its synth, from the session (this run, or its cache
 * folder) when a run with the same inputs is known there.
 */
export async function referenceOutputs(
  stack: string,
  options: SynthOptions = {},
): Promise<Record<string, unknown>> {
  const session = options.session ?? processSession;
  try {
    const run = await prepare(stack, { ...options, session });
    return await session.outputs(programKey(run), () => runProgram(run));
  } catch (error) {
    // Reported under the referencing stack's name and file: without this, a broken foundation's problems read as
    // if they were in every cluster stack's own file.
    const file = path.relative(projectRoot, options.configFile ?? configFileOf(stack));
    throw new Error(
      `the stack it references, ${stack} (${file}), failed: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
}

/** The config file of a stack this checkout synthesizes (a foundation stack's under foundation/). */
function configFileOf(stack: string): string {
  const foundation = foundationStackOf(stack);
  return foundation === undefined ? anyStackFile(projectRoot, stack) : stackFile(foundationRoot, foundation);
}

function prepare(stack: string, options: SynthOptions): Promise<ProgramRun> {
  const foundation = foundationStackOf(stack);
  return foundation === undefined
    ? preparePlatform(stack, options)
    : Promise.resolve(prepareFoundation(foundation, options));
}

async function preparePlatform(stack: string, options: SynthOptions): Promise<ProgramRun> {
  const session = options.session ?? processSession;
  const project = projectName();
  const rawConfig = readStackConfig(stack, options);
  const region = regionOf(rawConfig);
  const references = {
    ...(options.foundationOutputs ?? (await synthesizedFoundations(rawConfig, project, region, session))),
    // Before this stack's program runs (one program at a time): referenced fleet stacks are synthesized on their own.
    ...(await referencedStackOutputs(project, rawConfig, {
      organization: synthOrganization,
      outputsOf: (referenced, referencedOptions) =>
        referenceOutputs(referenced, { ...referencedOptions, session }),
      foundationOutputsOf: (referenced, referencedOptions) =>
        referenceOutputs(foundationSynthName(referenced), { ...referencedOptions, session }),
    })),
    ...options.stackOutputs,
  };
  return {
    program: "platform",
    project,
    stack,
    rawConfig,
    region,
    references,
    define: async () => {
      // Loaded after the mocks are set, as Pulumi requires; the module cache makes later stacks cheap.
      /* eslint-disable @typescript-eslint/no-require-imports */
      const { definePlatform } = require("../infra/platform") as typeof import("../infra/platform");
      const { loadPlatformConfig } = require("../infra/config") as typeof import("../infra/config");
      /* eslint-enable @typescript-eslint/no-require-imports */
      const config = loadPlatformConfig();
      return { config, outputs: () => definePlatform(config) };
    },
  };
}

function prepareFoundation(stack: string, options: SynthOptions): ProgramRun {
  const project = readProjectName(foundationRoot);
  const rawConfig = readStackConfig(stack, {
    ...options,
    project,
    configFile: options.configFile ?? stackFile(foundationRoot, stack),
  });
  return {
    program: "foundation",
    project,
    stack: foundationSynthName(stack),
    pulumiStack: stack,
    rawConfig,
    region: regionOf(rawConfig),
    references: {},
    define: async () => {
      /* eslint-disable @typescript-eslint/no-require-imports */
      const { defineFoundation } = require("../infra/foundation") as typeof import("../infra/foundation");
      const { loadFoundationConfig } =
        require("../infra/foundation/config") as typeof import("../infra/foundation/config");
      /* eslint-enable @typescript-eslint/no-require-imports */
      const config = loadFoundationConfig();
      return { config, outputs: () => defineFoundation(config) };
    },
  };
}

/** The foundation stacks of this checkout, as `npm run synth -- --all` lists them. */
export function foundationSynthNames(root: string = projectRoot): string[] {
  return foundationNamesIn(root);
}

function regionOf(rawConfig: Record<string, unknown>): string {
  return typeof rawConfig["aws:region"] === "string" ? (rawConfig["aws:region"] as string) : "us-east-1";
}

/**
 * The outputs of the foundation stack a cluster stack references, when it is one of this checkout's foundation
 * stacks in the synth's organization; the map is empty otherwise, and the program's StackReference then fails like
 * a missing stack does.
 */
async function synthesizedFoundations(
  rawConfig: Record<string, unknown>,
  project: string,
  region: string,
  session: SynthSession,
): Promise<Record<string, Record<string, unknown>>> {
  const configured = valueAt(rawConfig, [`${project}:foundation`, "stack"]);
  const reference =
    typeof configured === "string" ? configured : foundationStackReference(synthOrganization, region);
  const [organization, foundationProjectName, stack] = reference.split("/");
  if (organization !== synthOrganization || foundationProjectName !== foundationProject) return {};
  if (!foundationSynthNames().includes(foundationSynthName(stack))) return {};
  return { [reference]: await referenceOutputs(foundationSynthName(stack), { session }) };
}

/** What a self-managed backend (and the synth) calls every stack's organization. */
export const synthOrganization = "organization";

interface ProgramRun extends ProgramInputs {
  /** The synth's name (out/ folder, reports). */
  readonly stack: string;
  /** The Pulumi stack name, when it differs (a foundation stack). */
  readonly pulumiStack?: string;
  readonly region: string;
  readonly define: () => Promise<{ config: unknown; outputs: () => Promise<unknown> }>;
}

// One program at a time: Pulumi's mocks and config are process-wide.
let running: Promise<unknown> = Promise.resolve();

async function runProgram(run: ProgramRun): Promise<SynthResult> {
  const previous = running;
  let release: () => void = () => undefined;
  running = new Promise<void>((resolve) => (release = resolve));
  await previous.catch(() => undefined);
  try {
    await pulumi.runtime.setMocks(
      platformMocks(run.region, run.references),
      run.project,
      run.pulumiStack ?? run.stack,
      false,
      synthOrganization,
    );
    pulumi.runtime.setAllConfig(
      Object.fromEntries(
        Object.entries(run.rawConfig).map(([key, value]) => [
          key,
          typeof value === "string" ? value : JSON.stringify(value),
        ]),
      ),
    );
    const resources = recordRegistrations();
    const { config, outputs: define } = await run.define();
    let programOutputs: Record<string, unknown> = {};
    await pulumi.runtime.runInPulumiStack(async () => {
      programOutputs = (await define()) as Record<string, unknown>;
      return {};
    });
    const outputs = await resolveOutputs(programOutputs);
    await waitForRegistrations();
    return {
      project: run.project,
      stack: run.stack,
      config,
      resources: await Promise.all(resources),
      outputs,
    };
  } finally {
    release();
  }
}

function recordRegistrations(): Promise<SynthResource>[] {
  const records: Promise<SynthResource>[] = [];
  const monitor = pulumi.runtime.getMonitor() as unknown as MonitorWithRegister;
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (request, callback) => {
    let settle: (urn: string) => void = () => undefined;
    const urnPromise = new Promise<string>((resolve) => (settle = resolve));
    const propertyDependencies: Record<string, string[]> = {};
    request
      .getPropertydependenciesMap()
      .forEach((value, key) => (propertyDependencies[key] = value.getUrnsList()));
    const base = {
      type: request.getType(),
      name: request.getName(),
      parent: request.getParent(),
      custom: request.getCustom(),
      inputs: redactSecrets(pulumi.runtime.deserializeProperties(request.getObject())) as Record<
        string,
        unknown
      >,
      dependencies: request.getDependenciesList(),
      propertyDependencies,
      protect: request.getProtect(),
      retainOnDelete: request.getRetainondelete(),
      provider: request.getProvider(),
    };
    records.push(urnPromise.then((urn) => ({ urn, ...base })));
    return register(request, (error, response) => {
      settle(response?.getUrn() ?? "");
      callback(error, response);
    });
  };
  return records;
}

/** Secret values become "[secret]" so nothing written to out/ or printed can leak one. */
function redactSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactSecrets);
  if (!isRecord(value)) return value;
  if (value[pulumi.runtime.specialSigKey] === pulumi.runtime.specialSecretSig) return "[secret]";
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, redactSecrets(item)]));
}

interface InternalOutput {
  promise(): Promise<unknown>;
  isSecret: Promise<boolean>;
}

async function resolveOutputs(outputs: Record<string, unknown>): Promise<Record<string, unknown>> {
  const resolveOne = async (value: unknown): Promise<unknown> => {
    if (Array.isArray(value)) return Promise.all(value.map(resolveOne));
    if (pulumi.Output.isInstance(value)) {
      const output = value as unknown as InternalOutput;
      return (await output.isSecret) ? "[secret]" : resolveOne(await output.promise());
    }
    if (isRecord(value))
      return Object.fromEntries(
        await Promise.all(Object.entries(value).map(async ([key, item]) => [key, await resolveOne(item)])),
      );
    return value;
  };
  const entries = await Promise.all(
    Object.entries(outputs).map(async ([key, value]) => [key, await resolveOne(value)]),
  );
  return Object.fromEntries(entries);
}

/** Lets every pending registration reach the mock monitor before the records are read. */
async function waitForRegistrations(): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const settings = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs?: () => Promise<void> };
  if (settings.waitForRPCs) await settings.waitForRPCs();
}
