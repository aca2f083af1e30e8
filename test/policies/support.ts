import { unknownCheckingProxy } from "@pulumi/policy";
import type {
  PolicyResource,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import { optionsOf } from "../../policies/harness";
import { type PackSettings, recordPackSettings, resetPackSettings } from "../../policies/lib/settings";

/** Pulumi's wire value for "unknown during preview" (a string-typed unknown, as the CLI sends it). */
export const UNKNOWN_VALUE = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/**
 * Calls a resource policy the way the CLI's analyzer does: inputs wrapped in the SDK's unknown-checking proxy,
 * getConfig returning only what the test passes (so code-side defaults are exercised). Returns the messages.
 */
export function validateResource(
  policy: ResourceValidationPolicy,
  type: string,
  props: Record<string, unknown>,
  config: Record<string, unknown> = {},
): string[] {
  const messages: string[] = [];
  const args = {
    type,
    props: unknownCheckingProxy(props),
    urn: `urn:pulumi:test::eks-gitops-platform::${type}::subject`,
    name: "subject",
    opts: optionsOf({ protect: false }),
    stackTags: new Map(),
    isType: () => false,
    asType: () => undefined,
    getConfig: () => ({ ...config }),
    notApplicable: (reason?: string) => {
      throw new Error(`notApplicable: ${reason}`);
    },
  } as unknown as ResourceValidationArgs;
  const validations = Array.isArray(policy.validateResource)
    ? policy.validateResource
    : [policy.validateResource];
  for (const validate of validations) {
    const result = validate?.(args, (message) => messages.push(message));
    if (result instanceof Promise) throw new Error("policies must be synchronous");
  }
  return messages;
}

export interface StackResourceSpec {
  readonly type: string;
  readonly name: string;
  readonly props: Record<string, unknown>;
  /** Names of resources this one depends on. */
  readonly dependsOn?: readonly string[];
  /** Property name → names of the resources its value came from. */
  readonly propertyDependencies?: Record<string, readonly string[]>;
  /** Type of the parent component, which Pulumi writes into the URN (`parent$type`). */
  readonly parentType?: string;
}

export const urnOf = (spec: { type: string; name: string; parentType?: string }) =>
  `urn:pulumi:test::eks-gitops-platform::${spec.parentType ? `${spec.parentType}$` : ""}${spec.type}::${spec.name}`;

/** Calls a stack policy with fabricated, linked PolicyResources. Returns message and URN per violation. */
export function validateStack(
  policy: StackValidationPolicy,
  specs: readonly StackResourceSpec[],
  config: Record<string, unknown> = {},
): { message: string; urn?: string }[] {
  const byName = new Map<string, PolicyResource>();
  for (const spec of specs) {
    byName.set(spec.name, {
      type: spec.type,
      name: spec.name,
      urn: urnOf(spec),
      props: unknownCheckingProxy(spec.props),
      opts: optionsOf({ protect: false }),
      dependencies: [],
      propertyDependencies: {},
      isType: () => false,
      asType: () => undefined,
    } as unknown as PolicyResource);
  }
  const lookup = (names: readonly string[]) => names.map((name) => byName.get(name) as PolicyResource);
  for (const spec of specs) {
    const resource = byName.get(spec.name) as PolicyResource;
    resource.dependencies = lookup(spec.dependsOn ?? []);
    resource.propertyDependencies = Object.fromEntries(
      Object.entries(spec.propertyDependencies ?? {}).map(([key, names]) => [key, lookup(names)]),
    );
  }
  const violations: { message: string; urn?: string }[] = [];
  const args: StackValidationArgs = {
    resources: [...byName.values()],
    stackTags: new Map(),
    getConfig: <T extends object>() => ({ ...config }) as T,
    notApplicable: (reason?: string): never => {
      throw new Error(`notApplicable: ${reason}`);
    },
  };
  const result = policy.validateStack(args, (message, urn) => violations.push({ message, urn }));
  if (result instanceof Promise) throw new Error("policies must be synchronous");
  return violations;
}

/** A compliant Auto Mode cluster as the core program builds it; tests change one thing at a time. */
export function goodCluster(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: "platform-prod",
    version: "1.36",
    roleArn: UNKNOWN_VALUE,
    vpcConfig: {
      endpointPrivateAccess: true,
      endpointPublicAccess: false,
      subnetIds: [UNKNOWN_VALUE, UNKNOWN_VALUE, UNKNOWN_VALUE],
    },
    accessConfig: { authenticationMode: "API", bootstrapClusterCreatorAdminPermissions: false },
    bootstrapSelfManagedAddons: false,
    computeConfig: { enabled: true, nodePools: ["system", "general-purpose"], nodeRoleArn: UNKNOWN_VALUE },
    storageConfig: { blockStorage: { enabled: true } },
    kubernetesNetworkConfig: { elasticLoadBalancing: { enabled: true } },
    enabledClusterLogTypes: ["api", "audit", "authenticator", "controllerManager", "scheduler"],
    encryptionConfig: { resources: ["secrets"], provider: { keyArn: UNKNOWN_VALUE } },
    upgradePolicy: { supportType: "STANDARD" },
    deletionProtection: true,
    tags: { environment: "prod", project: "eks-gitops-platform" },
    ...overrides,
  };
}

/** Runs `body` with the pack settings a stack's pack config would record (environment, exemptions), then forgets them. */
export function withSettings<T>(settings: Partial<PackSettings>, body: () => T): T {
  recordPackSettings(settings);
  try {
    return body();
  } finally {
    resetPackSettings();
  }
}
