import type { PolicyResource, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import type * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import { clusterType, type ClusterProps } from "./eks-cluster";
import {
  at,
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

export const logGroupRetention: ResourceValidationPolicy = {
  name: "log-group-retention",
  description:
    "CloudWatch log groups must expire their data: set retentionInDays (e.g. 7 for dev, 365 for prod).",
  enforcementLevel: "mandatory",
  validateResource: forType<LogGroupProps>(logGroupType, (group, _args, reportViolation) => {
    const retention = at(group, "retentionInDays");
    if (retention === UNKNOWN || (retention !== undefined && retention > 0)) return;
    reportViolation(
      `retentionInDays is ${retention === undefined ? "unset" : retention}, so logs are kept (and billed) forever; set a retention period.`,
    );
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
