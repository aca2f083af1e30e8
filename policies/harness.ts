import * as fs from "fs";
import * as path from "path";
import { unknownCheckingProxy, UnknownValueError } from "@pulumi/policy";
import * as pulumi from "@pulumi/pulumi";
import type {
  EnforcementLevel,
  Policy,
  PolicyResource,
  PolicyResourceOptions,
  ReportViolation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import { resetPackSettings } from "./lib/settings";
import { policies as packPolicies } from "./pack";

/**
 * One resource as the offline synth records it (synth/types.ts `SynthResource` has this shape); declared here
 * because the pack imports nothing from outside policies/.
 */
export interface SynthResource {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly parent: string;
  readonly custom: boolean;
  readonly inputs: Record<string, unknown>;
  readonly dependencies: readonly string[];
  readonly propertyDependencies: Record<string, readonly string[]>;
  readonly protect: boolean;
}

/** A synthesized stack: its name and every resource in registration order. */
export interface SynthResult {
  readonly stack: string;
  readonly resources: readonly SynthResource[];
}

/**
 * Runs the policy pack over an offline synth result the way the Pulumi CLI's analyzer would: every resource
 * policy against every custom resource's inputs, every stack policy once over all resources, with the same
 * unknown-value proxy, the same pack config semantics (per-policy enforcement level, `all`, schema defaults)
 * and the same downgrade of "unknown during preview" to an advisory. Nothing here starts a gRPC server.
 */

export interface PolicyViolation {
  readonly policy: string;
  readonly enforcementLevel: EnforcementLevel;
  readonly urn?: string;
  readonly message: string;
}

export interface PolicyReport {
  readonly stack: string;
  readonly violations: PolicyViolation[];
  readonly mandatoryCount: number;
  readonly advisoryCount: number;
  /** Policies that ran (not disabled) and reported nothing. */
  readonly passed: string[];
}

type PolicyUnderTest = ResourceValidationPolicy | StackValidationPolicy;

class NotApplicable extends Error {}

/** Plain JSON the policies can read: secrets unwrapped, as the analyzer's deserializer does. */
function plain(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === "object") {
    const record = value as Record<string, unknown>;
    // The engine's encoding of a secret value in serialized properties.
    if (record[pulumi.runtime.specialSigKey] === pulumi.runtime.specialSecretSig)
      return plain(record["value"]);
    const result: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(record)) if (child !== undefined) result[key] = plain(child);
    return result;
  }
  return value;
}

function levelOf(policy: Policy, packConfig: Record<string, unknown>): EnforcementLevel {
  const own = packConfig[policy.name];
  if (typeof own === "string") return own as EnforcementLevel;
  const fromObject =
    own !== null && typeof own === "object"
      ? (own as { enforcementLevel?: EnforcementLevel }).enforcementLevel
      : undefined;
  const all = typeof packConfig["all"] === "string" ? (packConfig["all"] as EnforcementLevel) : undefined;
  const level = fromObject ?? all ?? policy.enforcementLevel ?? "advisory";
  // The CLI reports a remediate-level policy that still finds a violation as mandatory.
  return level === "remediate" ? "mandatory" : level;
}

/** The policy's config: schema defaults overlaid with the pack config (minus enforcementLevel). */
function configOf(policy: Policy, packConfig: Record<string, unknown>): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(policy.configSchema?.properties ?? {})) {
    const fallback = (schema as { default?: unknown }).default;
    if (fallback !== undefined) config[key] = fallback;
  }
  const own = packConfig[policy.name];
  if (own !== null && typeof own === "object") {
    for (const [key, value] of Object.entries(own)) if (key !== "enforcementLevel") config[key] = value;
  }
  return config;
}

function typeChecks(type: string, props: Record<string, unknown>) {
  const isType = (resourceClass: { new (...rest: never[]): unknown }): boolean => {
    // Generated resource classes carry their type token, as the SDK's own isType reads it.
    const token = (resourceClass as unknown as { __pulumiType?: unknown }).__pulumiType;
    if (typeof token === "string" && token !== "") return token === type;
    const isInstance = (resourceClass as unknown as { isInstance?: (value: unknown) => boolean }).isInstance;
    return typeof isInstance === "function" && isInstance({ __pulumiType: type }) === true;
  };
  return {
    isType,
    asType: (resourceClass: { new (...rest: never[]): unknown }) =>
      isType(resourceClass) ? props : undefined,
  };
}

/** The resource options a policy sees; tests call it with just `protect` for a fabricated resource. */
export function optionsOf(
  resource: Pick<SynthResource, "protect"> & { readonly parent?: string },
): PolicyResourceOptions {
  return {
    protect: resource.protect,
    ignoreChanges: [],
    aliases: [],
    customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
    additionalSecretOutputs: [],
    ...(resource.parent ? { parent: resource.parent } : {}),
  };
}

function settle(result: unknown, policy: string): void {
  if (result instanceof Promise) {
    throw new Error(`policy ${policy} is asynchronous; the offline harness runs policies synchronously`);
  }
}

/** Runs one validation like the analyzer: unknowns become an advisory, notApplicable is silent, other errors fail. */
function runGuarded(policyName: string, run: () => void, onUnknown: (message: string) => void): void {
  try {
    run();
  } catch (error) {
    if (error instanceof UnknownValueError) {
      onUnknown(`can't run policy '${policyName}' during preview: ${(error as Error).message}`);
    } else if (!(error instanceof NotApplicable)) {
      throw new Error(`policy ${policyName} failed: ${(error as Error).message}`, { cause: error });
    }
  }
}

export function runPolicyPack(
  result: SynthResult,
  packConfig: Record<string, unknown> = {},
  policies: readonly PolicyUnderTest[] = packPolicies,
): PolicyReport {
  const violations: PolicyViolation[] = [];
  const ran: string[] = [];
  // A fresh analyzer has recorded no pack settings; pack-settings (first in the pack) records this run's.
  resetPackSettings();
  const stackTags: ReadonlyMap<string, string> = new Map();
  const notApplicable = (reason?: string): never => {
    throw new NotApplicable(reason);
  };
  const resources = result.resources.map((resource) => ({
    resource,
    props: unknownCheckingProxy(plain(resource.inputs) as Record<string, unknown>) as Record<string, unknown>,
  }));

  for (const policy of policies) {
    const enforcementLevel = levelOf(policy, packConfig);
    if (enforcementLevel === "disabled") continue;
    ran.push(policy.name);
    const config = configOf(policy, packConfig);
    const getConfig = <T extends object>(): T => ({ ...config }) as T;
    const report =
      (defaultUrn?: string): ReportViolation =>
      (message, urn) => {
        violations.push({ policy: policy.name, enforcementLevel, urn: urn ?? defaultUrn, message });
      };
    const onUnknown = (defaultUrn?: string) => (message: string) =>
      violations.push({ policy: policy.name, enforcementLevel: "advisory", urn: defaultUrn, message });

    if ("validateStack" in policy && policy.validateStack) {
      const args: StackValidationArgs = {
        resources: stackResources(resources),
        stackTags,
        getConfig,
        notApplicable,
      };
      runGuarded(policy.name, () => settle(policy.validateStack(args, report()), policy.name), onUnknown());
    }
    const validations = (policy as Partial<ResourceValidationPolicy>).validateResource;
    if (!validations) continue;
    for (const { resource, props } of resources) {
      if (!resource.custom) continue;
      const args: ResourceValidationArgs = {
        type: resource.type,
        props,
        urn: resource.urn,
        name: resource.name,
        opts: optionsOf(resource),
        stackTags,
        ...typeChecks(resource.type, props),
        getConfig,
        notApplicable,
      } as ResourceValidationArgs;
      for (const validate of Array.isArray(validations) ? validations : [validations]) {
        runGuarded(
          policy.name,
          () => settle(validate(args, report(resource.urn)), policy.name),
          onUnknown(resource.urn),
        );
      }
    }
  }

  const failed = new Set(violations.map((violation) => violation.policy));
  return {
    stack: result.stack,
    violations,
    mandatoryCount: violations.filter((violation) => violation.enforcementLevel === "mandatory").length,
    advisoryCount: violations.filter((violation) => violation.enforcementLevel === "advisory").length,
    passed: ran.filter((name) => !failed.has(name)),
  };
}

/** The analyzer's view of the stack: resources linked to their parent and dependencies by object. */
function stackResources(
  resources: readonly { resource: SynthResource; props: Record<string, unknown> }[],
): PolicyResource[] {
  const byUrn = new Map<string, PolicyResource>();
  const built = resources.map(({ resource, props }) => {
    const policyResource = {
      type: resource.type,
      props,
      urn: resource.urn,
      name: resource.name,
      opts: optionsOf(resource),
      dependencies: [],
      propertyDependencies: {},
      ...typeChecks(resource.type, props),
    } as unknown as PolicyResource;
    byUrn.set(resource.urn, policyResource);
    return { resource, policyResource };
  });
  const resolve = (urns: readonly string[]): PolicyResource[] =>
    urns.map((urn) => byUrn.get(urn)).filter((found): found is PolicyResource => found !== undefined);
  for (const { resource, policyResource } of built) {
    const parent = resource.parent ? byUrn.get(resource.parent) : undefined;
    if (parent) policyResource.parent = parent;
    policyResource.dependencies = resolve(resource.dependencies);
    policyResource.propertyDependencies = Object.fromEntries(
      Object.entries(resource.propertyDependencies).map(([key, urns]) => [key, resolve(urns)]),
    );
  }
  return built.map(({ policyResource }) => policyResource);
}

/**
 * Reads policies/config/<stack>.json, the same file the pipeline passes as policyPackConfigs. A missing file is an
 * error here too: `pulumi preview --policy-pack-config` fails on it, so the offline synth must not pass quietly.
 */
export function loadPackConfig(stack: string): Record<string, unknown> {
  if (!/^[A-Za-z0-9_.-]+$/.test(stack)) throw new Error(`"${stack}" is not a stack name`);
  const file = path.join(__dirname, "config", `${stack}.json`);
  if (!fs.existsSync(file)) {
    throw new Error(
      `no policy pack config for stack ${stack}: create policies/config/${stack}.json (copy policies/config/dev.json), which the pipeline passes as --policy-pack-config`,
    );
  }
  const parsed: unknown = JSON.parse(fs.readFileSync(file, "utf8"));
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new Error(`${file} must hold a JSON object keyed by policy name`);
  }
  return parsed as Record<string, unknown>;
}

/** "name (type)" from a URN, short enough for a table column. */
export function describeUrn(urn: string | undefined): string {
  if (!urn) return "(stack)";
  const parts = urn.split("::");
  const name = parts[parts.length - 1];
  const types = (parts[parts.length - 2] ?? "").split("$");
  return `${name} (${types[types.length - 1]})`;
}

/** The report as a plain-text table: policy, level, resource, message. */
export function formatPolicyReport(report: PolicyReport): string {
  const header = `Policy report for stack ${report.stack}: ${report.mandatoryCount} mandatory, ${report.advisoryCount} advisory violation(s); ${report.passed.length} policies passed.`;
  if (report.violations.length === 0) return `${header}\n`;
  const rows = report.violations.map((violation) => [
    violation.policy,
    violation.enforcementLevel,
    describeUrn(violation.urn),
    violation.message,
  ]);
  const titles = ["POLICY", "LEVEL", "RESOURCE", "MESSAGE"];
  const widths = [0, 1, 2].map((column) =>
    Math.max(titles[column].length, ...rows.map((row) => row[column].length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => (column < 3 ? cell.padEnd(widths[column]) : cell))
      .join("  ")
      .trimEnd();
  return [header, "", line(titles), ...rows.map(line), ""].join("\n");
}
