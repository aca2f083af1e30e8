import { autoModeNodePools, controlPlaneLogGroupName } from "../../infra/cluster/contract";
import type { PlatformConfig } from "../../infra/config";
import { platformRoles } from "./roles";
import { checkStack, exitCodeFor, Finding, Observation } from "./checks";
import {
  AccessEntryReader,
  AwsInventory,
  Leftovers,
  ObservedFlowLog,
  ObservedIngressRule,
  ObservedRole,
  UnsupportedCall,
} from "./inventory";

export {
  adminGrants,
  checkRole,
  checkStack,
  exitCodeFor,
  foreignKeyPrincipals,
  formatFindings,
  unexpectedTrustedPrincipals,
} from "./checks";
export type { Finding, Observation, Severity } from "./checks";
export * from "./inventory";
export { readStackConfig } from "./stack-config";

const nothingLeft: Leftovers = { loadBalancers: [], volumes: [], instances: [], interfaces: [] };

/** Reads everything the checks need; `accessEntries` overrides the inventory's reader (moto has no such API). */
export async function observeStack(
  config: PlatformConfig,
  inventory: AwsInventory,
  accessEntries: AccessEntryReader = inventory,
): Promise<Observation> {
  const described = await inventory.describeCluster(config.cluster.name);
  if (!described) {
    return {
      cluster: undefined,
      accessEntries: [],
      keys: [],
      controlPlaneLogGroup: undefined,
      subnets: [],
      leftovers: nothingLeft,
    };
  }
  const subnets = await inventory.describeSubnets(described.subnetIds);
  const cluster = { ...described, vpcId: described.vpcId || (subnets[0]?.vpcId ?? "") };
  const keyArns = [...new Set(cluster.encryption.map((entry) => entry.keyArn).filter(Boolean))];
  // What the endpoint cannot answer (an emulator without the API) is reported as "not checked", never a crash.
  const orUnsupported = <T>(read: Promise<T>): Promise<T | UnsupportedCall> =>
    read.catch((error: unknown) => {
      if (error instanceof UnsupportedCall) return error;
      throw error;
    });
  const [entries, keys, controlPlaneLogGroup, leftovers, flowLogs] = await Promise.all([
    orUnsupported(accessEntries.listAccessEntries(cluster.name)),
    Promise.all(keyArns.map((arn) => inventory.describeKey(arn))),
    inventory.describeLogGroup(controlPlaneLogGroupName(cluster.name)),
    inventory.findLeftovers({
      clusterName: cluster.name,
      vpcId: cluster.vpcId,
      // The VPC is the foundation's, shared with other clusters: only this cluster's share of it counts.
      subnetIds: cluster.subnetIds,
      cidrBlock: config.network.vpcCidr,
      clusterSecurityGroupId: cluster.clusterSecurityGroupId,
      retainedNodePools: autoModeNodePools,
    }),
    inventory.describeFlowLogs
      ? orUnsupported(inventory.describeFlowLogs(cluster.vpcId))
      : Promise.resolve(new UnsupportedCall("ec2:DescribeFlowLogs", new Error("not read by this inventory"))),
  ]);
  const ingress =
    cluster.clusterSecurityGroupId === undefined
      ? new UnsupportedCall("eks:DescribeCluster clusterSecurityGroupId", new Error("not reported"))
      : inventory.describeIngressRules
        ? await orUnsupported(inventory.describeIngressRules(cluster.clusterSecurityGroupId))
        : new UnsupportedCall("ec2:DescribeSecurityGroupRules", new Error("not read by this inventory"));
  const roles = await observeRoles(config, inventory, orUnsupported);
  const notChecked = [
    ...(entries instanceof UnsupportedCall ? [{ check: "access entries", reason: entries.message }] : []),
    ...(flowLogs instanceof UnsupportedCall ? [{ check: "VPC flow logs", reason: flowLogs.message }] : []),
    ...(ingress instanceof UnsupportedCall
      ? [{ check: "cluster security group ingress", reason: ingress.message }]
      : []),
    ...(roles instanceof UnsupportedCall ? [{ check: "IAM roles", reason: roles.message }] : []),
  ];
  return {
    cluster,
    accessEntries: entries instanceof UnsupportedCall ? undefined : entries,
    flowLogs: flowLogs instanceof UnsupportedCall ? undefined : (flowLogs as ObservedFlowLog[]),
    clusterIngress: ingress instanceof UnsupportedCall ? undefined : (ingress as ObservedIngressRule[]),
    roles: roles instanceof UnsupportedCall ? undefined : roles,
    notChecked,
    keys,
    controlPlaneLogGroup,
    subnets,
    leftovers,
  };
}

/** The platform's roles as IAM holds them; one unsupported read makes the whole IAM check "not checked". */
async function observeRoles(
  config: PlatformConfig,
  inventory: AwsInventory,
  orUnsupported: <T>(read: Promise<T>) => Promise<T | UnsupportedCall>,
): Promise<NonNullable<Observation["roles"]> | UnsupportedCall> {
  const describeRole = inventory.describeRole?.bind(inventory);
  if (!describeRole) return new UnsupportedCall("iam:GetRole", new Error("not read by this inventory"));
  const expected = platformRoles(config);
  const observed = await Promise.all(expected.map((role) => orUnsupported(describeRole(role.name))));
  const unsupported = observed.find((role) => role instanceof UnsupportedCall);
  if (unsupported) return unsupported as UnsupportedCall;
  return expected.map((role, index) => ({
    expected: role,
    observed: observed[index] as ObservedRole | undefined,
  }));
}

/** The whole live check of one stack: read, compare, and the exit code `npm run verify` ends with. */
export async function verifyStack(
  config: PlatformConfig,
  inventory: AwsInventory,
  accessEntries?: AccessEntryReader,
): Promise<{ findings: Finding[]; exitCode: number }> {
  const findings = checkStack(config, await observeStack(config, inventory, accessEntries));
  return { findings, exitCode: exitCodeFor(findings) };
}
