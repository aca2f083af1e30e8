import type { PolicyResource, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import type * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import { clusterType, type ClusterProps } from "./eks-cluster";
import {
  describeStatement,
  grantsAll,
  isEveryone,
  isScopedByCondition,
  statementsOf,
} from "./lib/iam-documents";
import { type Environment, stackEnvironment } from "./lib/settings";
import {
  at,
  atPath,
  configWithDefaults,
  type ConfigSchemaWithDefaults,
  elements,
  forType,
  UNKNOWN,
} from "./lib/values";

export type KmsKeyProps = pulumi.Unwrap<aws.kms.KeyArgs>;
export type LogGroupProps = pulumi.Unwrap<aws.cloudwatch.LogGroupArgs>;
export const kmsKeyType = "aws:kms/key:Key";
export const logGroupType = "aws:cloudwatch/logGroup:LogGroup";

export const kmsKeyRotation: ResourceValidationPolicy = {
  name: "kms-key-rotation",
  description:
    "Customer-managed symmetric KMS keys must rotate: set enableKeyRotation: true on the aws.kms.Key.",
  enforcementLevel: "mandatory",
  validateResource: forType<KmsKeyProps>(kmsKeyType, (key, _args, reportViolation) => {
    const spec = at(key, "customerMasterKeySpec");
    const usage = at(key, "keyUsage");
    // Only symmetric encryption keys support automatic rotation; asymmetric and HMAC keys are out of scope.
    if (spec === UNKNOWN || usage === UNKNOWN) return;
    if (
      (spec ?? "SYMMETRIC_DEFAULT") !== "SYMMETRIC_DEFAULT" ||
      (usage ?? "ENCRYPT_DECRYPT") !== "ENCRYPT_DECRYPT"
    )
      return;
    const rotation = at(key, "enableKeyRotation");
    if (rotation === UNKNOWN || rotation === true) return;
    reportViolation(
      `enableKeyRotation is ${rotation === undefined ? "unset (defaults to false)" : "false"}: the key material never changes; set enableKeyRotation: true.`,
    );
  }),
};

export interface DeletionWindowConfig {
  minDeletionWindowDays: number;
}

const deletionWindowConfigSchema = {
  properties: { minDeletionWindowDays: { type: "integer", minimum: 7, maximum: 30, default: 14 } },
} satisfies ConfigSchemaWithDefaults<DeletionWindowConfig>;

export const kmsDeletionWindow: ResourceValidationPolicy = {
  name: "kms-deletion-window",
  description:
    "A KMS key scheduled for deletion must leave time to notice and cancel: set deletionWindowInDays to at least the configured minimum (default 14; AWS allows 7 to 30, default 30).",
  enforcementLevel: "mandatory",
  configSchema: deletionWindowConfigSchema,
  validateResource: forType<KmsKeyProps>(kmsKeyType, (key, args, reportViolation) => {
    const config = configWithDefaults<DeletionWindowConfig>(deletionWindowConfigSchema, args.getConfig);
    const days = at(key, "deletionWindowInDays");
    // Unset means AWS's 30 days.
    if (days === UNKNOWN || days === undefined || days >= config.minDeletionWindowDays) return;
    reportViolation(
      `deletionWindowInDays is ${days}: once the window passes, everything encrypted with the key (the cluster's Secrets) is unrecoverable; use at least ${config.minDeletionWindowDays} (30 recommended).`,
    );
  }),
};

export interface RetentionConfig {
  /** Fewest days of retention per environment (prod keeps a year for incident reviews and audits). */
  minimumRetentionDays: Record<Environment, number>;
}

const retentionConfigSchema = {
  properties: {
    minimumRetentionDays: {
      type: "object",
      properties: {
        dev: { type: "integer", minimum: 1 },
        staging: { type: "integer", minimum: 1 },
        prod: { type: "integer", minimum: 1 },
      },
      default: { dev: 1, staging: 30, prod: 365 },
    },
  },
} satisfies ConfigSchemaWithDefaults<RetentionConfig>;

export const logGroupRetention: ResourceValidationPolicy = {
  name: "log-group-retention",
  description:
    "CloudWatch log groups must expire their data, and keep it at least the environment's minimum (default dev 1, staging 30, prod 365 days): set retentionInDays.",
  enforcementLevel: "mandatory",
  configSchema: retentionConfigSchema,
  validateResource: forType<LogGroupProps>(logGroupType, (group, args, reportViolation) => {
    const retention = at(group, "retentionInDays");
    if (retention === UNKNOWN) return;
    if (retention === undefined || retention <= 0) {
      reportViolation(
        `Log group ${args.name} has retentionInDays ${retention === undefined ? "unset" : retention}, so logs are kept (and billed) forever; set a retention period.`,
      );
      return;
    }
    const config = configWithDefaults<RetentionConfig>(retentionConfigSchema, args.getConfig);
    const environment = stackEnvironment();
    const minimum = config.minimumRetentionDays[environment] ?? 1;
    if (retention < minimum) {
      reportViolation(
        `Log group ${args.name} keeps logs ${retention} days, below the ${environment} minimum of ${minimum}: an incident or audit needs them longer; set retentionInDays to at least ${minimum} (cluster.logRetentionDays / network.flowLogRetentionDays).`,
      );
    }
  }),
};

/**
 * Log groups must be encrypted with the platform's customer-managed key: a KMS key declared in this stack, or one
 * listed in allowedKeyArns (a key managed elsewhere). A stack policy, because the key's ARN is the key's output.
 */
export interface LogGroupKeyConfig {
  allowedKeyArns: string[];
}

const logGroupKeyConfigSchema = {
  properties: { allowedKeyArns: { type: "array", items: { type: "string" }, default: [] } },
} satisfies ConfigSchemaWithDefaults<LogGroupKeyConfig>;

export const logGroupKms: StackValidationPolicy = {
  name: "log-group-kms",
  description:
    "CloudWatch log groups must be encrypted with the platform's customer-managed KMS key: set kmsKeyId to the arn of the stack's aws.kms.Key (or a key listed in allowedKeyArns).",
  enforcementLevel: "mandatory",
  configSchema: logGroupKeyConfigSchema,
  validateStack: (args, reportViolation) => {
    const config = configWithDefaults<LogGroupKeyConfig>(logGroupKeyConfigSchema, args.getConfig);
    const keys = args.resources.filter((resource) => resource.type === kmsKeyType);
    for (const group of args.resources.filter((resource) => resource.type === logGroupType)) {
      const keyId = at(group.props as LogGroupProps, "kmsKeyId");
      const sources = group.propertyDependencies["kmsKeyId"] ?? [];
      if (sources.some((source) => source.type === kmsKeyType)) continue;
      if (typeof keyId === "string" && config.allowedKeyArns.includes(keyId)) continue;
      if (keyId === UNKNOWN && sources.length > 0) continue;
      const platformKey =
        keys.length > 0
          ? `the platform key (${keys.map((key) => key.name).join(", ")})`
          : "a customer-managed aws.kms.Key";
      reportViolation(
        keyId === undefined || keyId === ""
          ? `Log group ${group.name} has no kmsKeyId, so its logs (audit trail, flow logs) are encrypted only with a CloudWatch-owned key that no key policy controls; set kmsKeyId to ${platformKey}.`
          : `Log group ${group.name} is encrypted with ${typeof keyId === "string" ? keyId : "a key"} that is neither a key of this stack nor in allowedKeyArns; use ${platformKey}, or list the key in this policy's allowedKeyArns.`,
        group.urn,
      );
    }
  },
};

export const kmsKeyPolicyType = "aws:kms/keyPolicy:KeyPolicy";

/** What is wrong with a key policy: everyone can use or administer the key. */
export function keyPolicyProblems(document: unknown): string[] {
  const statements = statementsOf(document);
  if (statements === UNKNOWN || statements === undefined) return [];
  return statements
    .filter((statement) => statement.effect === "Allow" && isEveryone(statement))
    .flatMap((statement) => {
      const where = describeStatement(statement);
      if (grantsAll(statement.actions, "kms")) {
        return [
          `${where} grants ${statement.actions.join(", ")} to "*": anyone can use, re-key, disable or schedule the key for deletion; grant kms:* only to the account root (arn:aws:iam::<account>:root) and name the roles that use the key.`,
        ];
      }
      if (!isScopedByCondition(statement)) {
        return [
          `${where} grants ${statement.actions.join(", ") || "NotAction"} to "*" with no aws:PrincipalAccount / kms:CallerAccount / aws:PrincipalOrgID condition: identities in any account can use the key; name the principals or add such a condition.`,
        ];
      }
      return [];
    });
}

export const kmsKeyPolicyNoWildcard: ResourceValidationPolicy = {
  name: "kms-key-policy-no-wildcard",
  description:
    'A KMS key policy must not grant kms:* (or *) to the principal "*", nor any KMS action to "*" without an account or organisation condition: name the principals.',
  enforcementLevel: "mandatory",
  validateResource: forType([kmsKeyType, kmsKeyPolicyType], (props, args, reportViolation) => {
    for (const problem of keyPolicyProblems(atPath(props, "policy"))) {
      reportViolation(`Key ${args.name} policy ${problem}`);
    }
  }),
};

/**
 * EKS writes control-plane logs to /aws/eks/<cluster>/cluster. If the program does not create that group first,
 * EKS creates it without retention, and the orphaned group then blocks re-creating the stack after a destroy.
 */
export const eksClusterLogGroup: StackValidationPolicy = {
  name: "eks-cluster-log-group",
  description:
    "Declare the control-plane log group /aws/eks/<cluster name>/cluster (with retention) in the program and make the cluster depend on it, so EKS does not create an unmanaged one.",
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    const groups = args.resources.filter((resource) => resource.type === logGroupType);
    const groupNames = groups.map((group) => at(group.props as LogGroupProps, "name"));
    for (const cluster of args.resources.filter((resource) => resource.type === clusterType)) {
      const problem = clusterLogGroupProblem(cluster, groups, groupNames);
      if (problem) reportViolation(problem, cluster.urn);
    }
  },
};

function clusterLogGroupProblem(
  cluster: PolicyResource,
  groups: readonly PolicyResource[],
  groupNames: readonly unknown[],
): string | undefined {
  const props = cluster.props as ClusterProps;
  const name = at(props, "name");
  const logTypes = elements(at(props, "enabledClusterLogTypes"));
  // Without logging EKS creates no group (eks-control-plane-logging reports that); without a known name we cannot match.
  if (name === UNKNOWN || name === undefined || logTypes === UNKNOWN || (logTypes ?? []).length === 0)
    return undefined;
  const expected = `/aws/eks/${name}/cluster`;
  const index = groupNames.indexOf(expected);
  if (index < 0) {
    // A name still unknown (or computed from another resource) could be the expected one: do not guess.
    const undecided = groups.some(
      (group, position) =>
        groupNames[position] === UNKNOWN ||
        (groupNames[position] === undefined && (group.propertyDependencies["name"] ?? []).length > 0),
    );
    if (undecided) return undefined;
    return `No aws.cloudwatch.LogGroup named ${expected}: EKS will create it without retention, and it survives a destroy and blocks the next create; declare it with retentionInDays.`;
  }
  const group = groups[index];
  if (!cluster.dependencies.some((dependency) => dependency.urn === group.urn)) {
    return `The cluster does not depend on its log group ${expected}: EKS may create the group first and the program's create then fails; add dependsOn: [logGroup] to the cluster.`;
  }
  return undefined;
}
