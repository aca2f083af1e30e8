import { readFileSync } from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { isRecord } from "../infra/objects";
import { projectRoot, readProjectName } from "../infra/project";
import { referencedStackOutputs, synthOrganization } from "./fleet";
import { platformMocks } from "./mocks";
import { anyStackFile } from "./stacks";
import type { SynthResource, SynthResult } from "./types";

export type { SynthResource, SynthResult } from "./types";

export { projectRoot };

export interface SynthOptions {
  /** Stack config file to read instead of Pulumi.<stack>.yaml (fixtures in tests). */
  readonly configFile?: string;
  /**
   * Config values to change, deep-merged over the file: keys without a ":" belong to this project
   * (e.g. { cluster: { kubernetesVersion: "1.35" } }), others are full keys (e.g. "aws:region").
   */
  readonly overrides?: Record<string, unknown>;
  /**
   * Outputs of referenced stacks (fleet hub and spokes) by fully qualified name. Default: synthesized from the
   * referenced stacks' own files here (synth/fleet.ts), as `pulumi up` would find them deployed.
   */
  readonly stackOutputs?: Readonly<Record<string, Record<string, unknown>>>;
}

/** Reads the project name from Pulumi.yaml, as the CLI does. */
export function projectName(): string {
  return readProjectName(projectRoot);
}

/** The stack config file's `config:` map with overrides merged in, keyed by full config key. */
export function readStackConfig(stack: string, options: SynthOptions = {}): Record<string, unknown> {
  const project = projectName();
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

/**
 * Runs the real program (infra/platform.ts) for one stack under Pulumi's mocks, with no CLI, cloud or network, and
 * records every resource registration as the engine would see it: URN, parent, inputs and dependencies.
 */
export async function synthesize(stack: string, options: SynthOptions = {}): Promise<SynthResult> {
  const project = projectName();
  const rawConfig = readStackConfig(stack, options);
  // Before this stack's mocks are set: referenced stacks are synthesized on their own.
  const stackOutputs = options.stackOutputs ?? (await referencedStackOutputs(project, rawConfig, synthesize));
  const region =
    typeof rawConfig["aws:region"] === "string" ? (rawConfig["aws:region"] as string) : "us-east-1";

  // "organization" is what a self-managed backend calls every stack's organization.
  await pulumi.runtime.setMocks(
    platformMocks(region, stackOutputs),
    project,
    stack,
    false,
    synthOrganization,
  );
  pulumi.runtime.setAllConfig(
    Object.fromEntries(
      Object.entries(rawConfig).map(([key, value]) => [
        key,
        typeof value === "string" ? value : JSON.stringify(value),
      ]),
    ),
  );
  const resources = recordRegistrations();

  // Loaded after the mocks are set, as Pulumi requires; the module cache makes later stacks cheap.
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { definePlatform } = require("../infra/platform") as typeof import("../infra/platform");
  const { loadPlatformConfig } = require("../infra/config") as typeof import("../infra/config");
  /* eslint-enable @typescript-eslint/no-require-imports */
  const config = loadPlatformConfig();
  let programOutputs: Record<string, unknown> = {};
  await pulumi.runtime.runInPulumiStack(async () => {
    programOutputs = (await definePlatform(config)) as unknown as Record<string, unknown>;
    return {};
  });
  const outputs = await resolveOutputs(programOutputs);
  await waitForRegistrations();
  return { project, stack, config, resources: await Promise.all(resources), outputs };
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
      return (await output.isSecret) ? "[secret]" : output.promise();
    }
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
