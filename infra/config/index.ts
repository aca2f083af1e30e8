import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { foundationStackReference } from "../foundation/contract";
import { isRecord, valueAt } from "../objects";
import { partitionOf, regionProblem } from "./regions";
import { everydayAddonIssues } from "./addons";
import { argoCdCapabilityRoleName } from "./gitops";
import { supportProblem } from "./kubernetes-versions";
import { clusterNamePattern, clusterNameRule, platformSchema, RawPlatformConfig } from "./schema";
import { closest, didYouMean } from "./suggest";

export { newestKubernetesVersion, kubernetesVersions } from "./kubernetes-versions";

export type Environment = RawPlatformConfig["environment"];
export type ComputeMode = RawPlatformConfig["compute"]["mode"];

/** The validated stack configuration with every environment-dependent default resolved. */
export interface PlatformConfig extends Omit<
  RawPlatformConfig,
  "network" | "cluster" | "gitops" | "foundation"
> {
  readonly project: string;
  readonly stack: string;
  readonly region: string;
  readonly network: Omit<
    RawPlatformConfig["network"],
    "publicSubnetPrefix" | "natGateways" | "flowLogRetentionDays"
  >;
  readonly cluster: RawPlatformConfig["cluster"] & {
    readonly name: string;
    readonly logRetentionDays: number;
    readonly deletionProtection: boolean;
  };
  readonly gitops: RawPlatformConfig["gitops"] & { readonly highAvailability: boolean };
  /** The foundation stack reference, defaulted to `<this stack's organization>/eks-gitops-foundation/<region>`. */
  readonly foundation: { readonly stack: string };
}

/** One rejected config value: which key, what was given, and what to write instead. */
export interface ConfigProblem {
  readonly key: string;
  readonly value: unknown;
  readonly message: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly ConfigProblem[]) {
    super(
      `Stack configuration is invalid (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
        problems
          .map((problem) => `  - ${problem.key} = ${JSON.stringify(problem.value)}: ${problem.message}`)
          .join("\n"),
    );
    this.name = "ConfigError";
  }
}

/** Defaults that differ by environment: dev cheap and short-lived, prod hardened. */
const environmentDefaults = {
  dev: { logRetentionDays: 7, deletionProtection: false, highAvailability: false },
  staging: {
    logRetentionDays: 30,
    deletionProtection: false,
    highAvailability: false,
  },
  prod: { logRetentionDays: 365, deletionProtection: true, highAvailability: true },
} as const;

/**
 * Validates raw stack config (the values of `Pulumi.<stack>.yaml`, keys without the project prefix) and resolves
 * defaults. Pure: the same input gives the same config or the same list of problems.
 */
export function resolvePlatformConfig(
  raw: Record<string, unknown>,
  context: {
    project: string;
    stack: string;
    region: unknown;
    organization?: string;
    /** The stack's config outside this project's namespace (`aws:region`, …), whose namespaces are checked. */
    otherConfig?: Readonly<Record<string, unknown>>;
    /** The day support windows are judged on (YYYY-MM-DD); today when omitted. */
    today?: string;
  },
): PlatformConfig {
  const problems: ConfigProblem[] = [];
  if (context.region === undefined) {
    problems.push({
      key: "aws:region",
      value: null,
      message:
        "must be an AWS region such as eu-west-1 and is not set; `pulumi config set aws:region eu-west-1`",
    });
  } else {
    const problem = regionProblem(context.region);
    if (problem) problems.push({ key: "aws:region", value: context.region, message: problem });
  }
  problems.push(...namespaceProblems(context.otherConfig ?? {}, context.project));
  const parsed = platformSchema.safeParse(raw);
  if (!parsed.success) {
    problems.push(...parsed.error.issues.flatMap((issue) => toProblems(issue, raw, context.project)));
  } else {
    problems.push(...partitionProblems(parsed.data, context.region, context.project));
  }
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);

  const config = parsed.data;
  const defaults = environmentDefaults[config.environment];
  const clusterName = config.cluster.name ?? `${context.project.replace(/^eks-/, "")}-${context.stack}`;
  const highAvailability = config.gitops.highAvailability ?? defaults.highAvailability;
  if (!clusterNamePattern.test(clusterName)) {
    problems.push({
      key: `${context.project}:cluster.name`,
      value: clusterName,
      message: `(derived from project and stack) ${clusterNameRule}; set cluster.name explicitly`,
    });
  }
  problems.push(...capabilityRoleProblems(config, clusterName, context.project));
  if (highAvailability && config.compute.mode === "karpenter" && config.compute.systemNodeGroup.minSize < 3) {
    // Argo CD's redis-ha spreads 3 replicas over 3 nodes, and before Argo CD installs Karpenter the system node
    // group is all there is: with fewer nodes the bootstrap release never becomes ready.
    problems.push({
      key: `${context.project}:compute.systemNodeGroup.minSize`,
      value: config.compute.systemNodeGroup.minSize,
      message:
        "HA Argo CD (gitops.highAvailability) needs 3 nodes for redis-ha before Karpenter exists; set minSize: 3 (and maxSize ≥ 3), or gitops.highAvailability: false",
    });
  }
  const support = supportProblem(
    config.cluster.kubernetesVersion,
    config.cluster.supportType,
    context.today ?? new Date().toISOString().slice(0, 10),
  );
  if (support !== undefined) {
    problems.push({
      key: `${context.project}:cluster.kubernetesVersion`,
      value: config.cluster.kubernetesVersion,
      message: support,
    });
  }
  for (const issue of everydayAddonIssues(config, highAvailability)) {
    problems.push({
      key: `${context.project}:${issue.path.join(".")}`,
      value: valueAt(raw, issue.path) ?? null,
      message: issue.message,
    });
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    ...config,
    project: context.project,
    stack: context.stack,
    region: context.region as string,
    tags: {
      ...config.tags,
      project: context.project,
      stack: context.stack,
      environment: config.environment,
      owner: config.owner,
      "managed-by": "pulumi",
      ...(config.expiresOn ? { "expires-on": config.expiresOn } : {}),
    },
    network: {
      vpcCidr: config.network.vpcCidr,
      availabilityZoneCount: config.network.availabilityZoneCount,
      privateSubnetPrefix: config.network.privateSubnetPrefix,
    },
    cluster: {
      ...config.cluster,
      name: clusterName,
      logRetentionDays: config.cluster.logRetentionDays ?? defaults.logRetentionDays,
      deletionProtection: config.cluster.deletionProtection ?? defaults.deletionProtection,
    },
    gitops: {
      ...config.gitops,
      highAvailability,
    },
    foundation: {
      stack:
        config.foundation.stack ??
        foundationStackReference(context.organization ?? "organization", context.region as string),
    },
  };
}

/**
 * Namespaces besides the project's whose keys a stack may carry: the providers the program uses (their own config,
 * e.g. `aws:profile`) and Pulumi's. A key in any other namespace is read by nobody, so it is a typo.
 */
export const providerNamespaces = ["aws", "kubernetes", "command", "pulumi"] as const;

function namespaceProblems(config: Readonly<Record<string, unknown>>, project: string): ConfigProblem[] {
  const namespaces = [project, ...providerNamespaces];
  return Object.entries(config).flatMap(([key, value]) => {
    const separator = key.indexOf(":");
    const namespace = separator < 0 ? "" : key.slice(0, separator);
    if ((namespaces as string[]).includes(namespace)) return [];
    const rest = key.slice(separator + 1);
    const near = closest(namespace, namespaces);
    return [
      {
        key,
        value,
        message: near
          ? `unknown config namespace "${namespace}"; did you mean ${near}:${rest}?`
          : `unknown config namespace "${namespace}": this project reads ${project}:<key> and the providers' own keys (${providerNamespaces.map((name) => `${name}:`).join(", ")})`,
      },
    ];
  });
}

/** The principals of access.*, each with its config key. */
function accessPrincipals(config: RawPlatformConfig): [string, string | undefined][] {
  return [
    ["access.deployRoleArn", config.access.deployRoleArn],
    ...config.access.admins.map((arn, index): [string, string] => [`access.admins.${index}`, arn]),
    ...config.access.viewers.map((arn, index): [string, string] => [`access.viewers.${index}`, arn]),
  ];
}

/**
 * EKS itself gives the Argo CD capability role an access entry on the cluster; listing that role in access.* would
 * make the program create a second one, which EKS refuses halfway through the deploy.
 */
function capabilityRoleProblems(
  config: RawPlatformConfig,
  clusterName: string,
  project: string,
): ConfigProblem[] {
  if (config.gitops.argocd.install !== "capability") return [];
  const role = `:role/${argoCdCapabilityRoleName(clusterName)}`;
  return accessPrincipals(config)
    .filter(([, arn]) => arn?.endsWith(role))
    .map(([key, arn]) => ({
      key: `${project}:${key}`,
      value: arn,
      message:
        "is the Argo CD capability's own role: EKS creates its access entry and the platform grants it cluster admin; remove it from access",
    }));
}

/** Principal ARNs must be in the partition of the stack's region (arn:aws-cn:… for cn-north-1, and so on). */
function partitionProblems(config: RawPlatformConfig, region: unknown, project: string): ConfigProblem[] {
  const partition = typeof region === "string" ? partitionOf(region) : undefined;
  if (!partition) return [];
  const principals = accessPrincipals(config);
  return principals.flatMap(([key, arn]) => {
    const arnPartition = arn?.split(":")[1];
    if (arn === undefined || arnPartition === partition) return [];
    return [
      {
        key: `${project}:${key}`,
        value: arn,
        message: `is in partition ${arnPartition}, but aws:region ${String(region)} is in ${partition}; write it as arn:${partition}:${arn.split(":").slice(2).join(":")}`,
      },
    ];
  });
}

/** One problem per zod issue, in the project's words; an issue about unknown keys becomes one problem per key. */
function toProblems(issue: z.core.$ZodIssue, raw: Record<string, unknown>, project: string): ConfigProblem[] {
  const problem = (path: readonly PropertyKey[], message: string): ConfigProblem => ({
    key: `${project}:${path.map(String).join(".")}`,
    value: valueAt(raw, path) ?? null,
    message,
  });
  if (issue.code === "unrecognized_keys") {
    const known = knownKeysAt(issue.path);
    return issue.keys.map((unknownKey) =>
      problem(
        [...issue.path, unknownKey],
        `unknown config key${didYouMean(unknownKey, known) || ` (the keys here: ${known.join(", ")})`}; the README's config reference lists every key`,
      ),
    );
  }
  return [problem(issue.path, projectWords(issue, valueAt(raw, issue.path), issue.path))];
}

/** The keys the schema knows at a path of the config ([] for the top level). */
function knownKeysAt(path: readonly PropertyKey[]): string[] {
  let schema: unknown = platformSchema;
  for (const step of [...path, undefined]) {
    // Look through .default(), .optional() and refinements to the object or array they wrap.
    for (;;) {
      const def = (
        schema as { def?: { type?: string; innerType?: unknown; in?: unknown; element?: unknown } }
      ).def;
      if (def?.innerType) schema = def.innerType;
      else if (def?.type === "pipe") schema = def.in;
      else break;
    }
    const shape = (schema as { shape?: Record<string, unknown> }).shape;
    if (step === undefined) return shape ? Object.keys(shape) : [];
    if (typeof step === "number") schema = (schema as { def?: { element?: unknown } }).def?.element;
    else schema = shape?.[String(step)];
    if (schema === undefined) return [];
  }
  return [];
}

function kindOf(value: unknown): string {
  if (value === null) return "empty";
  if (Array.isArray(value)) return "a list";
  if (isRecord(value)) return "a mapping";
  return typeof value === "string" ? "text" : `a ${typeof value}`;
}

/**
 * zod's own words ("Invalid input: expected string, received number") become what to write in the stack file:
 * including YAML's habit of reading 1.30 as the number 1.3 and yes/no as booleans.
 */
function projectWords(issue: z.core.$ZodIssue, value: unknown, path: readonly PropertyKey[]): string {
  const leaf = String(path[path.length - 1] ?? "value");
  if (issue.code === "invalid_type") {
    if (value === undefined)
      return `is required${issue.message.startsWith("Invalid input") ? "" : `: ${issue.message}`}`;
    if (value === null)
      return `is empty (\`${leaf}:\` with nothing after it); give it a value or delete the line`;
    switch (issue.expected) {
      case "string":
        if (typeof value === "number") {
          const text = String(value);
          const lostZero = /^\d+\.\d$/.test(text) ? ` (YAML reads ${text}0 as the number ${text})` : "";
          return `must be text, but YAML read ${text} as a number${lostZero}; quote it: ${leaf}: "${/^\d+\.\d$/.test(text) ? `${text}0` : text}"`;
        }
        if (typeof value === "boolean")
          return `must be text, but YAML read it as ${value}; quote it: ${leaf}: "${String(value)}"`;
        return `must be text, not ${kindOf(value)}`;
      case "number":
      case "int":
        if (typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value)))
          return `must be a number, not the text "${value}"; remove the quotes: ${leaf}: ${value}`;
        return `must be a number, not ${kindOf(value)}`;
      case "boolean":
        if (typeof value === "string" && /^(true|false)$/i.test(value))
          return `must be true or false without quotes: ${leaf}: ${value.toLowerCase()}`;
        return `must be true or false, not ${kindOf(value)}`;
      case "array":
        return `must be a list, not ${kindOf(value)}; write ${leaf}: [${typeof value === "string" ? value : "…"}] or one "- item" line per entry`;
      case "object":
        return `must be a mapping of keys (indented "key: value" lines under ${leaf}:), not ${kindOf(value)}`;
      default:
        return `must be ${issue.expected}, not ${kindOf(value)}`;
    }
  }
  // A record key's own problems (tag keys), with the key as the value.
  if (issue.code === "invalid_key")
    return issue.issues
      .map((inner) => projectWords(inner as z.core.$ZodIssue, String(leaf), path))
      .join("; ");
  // Custom messages are already in the project's words; rewrite only zod's defaults.
  if (issue.code === "too_small" && /^Too small/.test(issue.message))
    return issue.origin === "array"
      ? `must list at least ${String(issue.minimum)} item(s)`
      : issue.origin === "string"
        ? issue.minimum === 1
          ? "must not be empty"
          : `must be at least ${String(issue.minimum)} characters`
        : `must be at least ${String(issue.minimum)}`;
  if (issue.code === "too_big" && /^Too big/.test(issue.message))
    return issue.origin === "array"
      ? `must list at most ${String(issue.maximum)} items`
      : issue.origin === "string"
        ? `must be at most ${String(issue.maximum)} characters`
        : `must be at most ${String(issue.maximum)}`;
  if (issue.code === "invalid_value" && /^Invalid (option|input)/.test(issue.message))
    return `must be ${issue.values.map((option) => JSON.stringify(option)).join(" or ")}`;
  if (issue.code === "invalid_format" && /^Invalid/.test(issue.message))
    return `is not in the expected format (${issue.format})`;
  return issue.message;
}

/** This project's keys of a full stack config (`<project>:<key>` → value), without the prefix. */
export function projectConfigValues(
  all: Readonly<Record<string, unknown>>,
  project: string,
): Record<string, unknown> {
  const prefix = `${project}:`;
  return Object.fromEntries(
    Object.entries(all)
      .filter(([key]) => key.startsWith(prefix))
      .map(([key, value]) => [key.slice(prefix.length), value]),
  );
}

/**
 * Validates a whole stack config as written in `Pulumi.<stack>.yaml` (`<namespace>:<key>` → value): this project's
 * keys, `aws:region`, and every other key's namespace.
 */
export function resolveStackConfig(
  all: Readonly<Record<string, unknown>>,
  context: { project: string; stack: string; organization?: string },
): PlatformConfig {
  const prefix = `${context.project}:`;
  return resolvePlatformConfig(projectConfigValues(all, context.project), {
    ...context,
    region: all["aws:region"],
    otherConfig: Object.fromEntries(Object.entries(all).filter(([key]) => !key.startsWith(prefix))),
  });
}

/** Reads the Pulumi config of the running stack (CLI or mocks) and validates it. */
export function loadPlatformConfig(): PlatformConfig {
  const project = pulumi.getProject();
  const prefix = `${project}:`;
  const all = Object.fromEntries(
    Object.entries(pulumi.runtime.allConfig()).map(([key, value]) => [
      key,
      key.startsWith(prefix) ? parseConfigValue(key.slice(prefix.length), String(value)) : value,
    ]),
  );
  return resolveStackConfig(all, {
    project,
    stack: pulumi.getStack(),
    organization: pulumi.getOrganization(),
  });
}

/**
 * Pulumi hands structured values over as JSON text and top-level scalars as plain strings, whether the stack file
 * quoted them or not. A key the schema types as text keeps its text (owner: "42" stays "42"); others are JSON.
 */
function parseConfigValue(key: string, value: string): unknown {
  const shape = (platformSchema as unknown as { shape: Record<string, z.ZodType> }).shape;
  const schema = shape[key];
  if (schema && isTextSchema(schema)) return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

/** A key whose schema takes text: a string is not a type error there (its own rules may still refuse ""). */
function isTextSchema(schema: z.ZodType): boolean {
  return !schema.safeParse(0).success && schema.safeParse("").error?.issues[0]?.code !== "invalid_type";
}
