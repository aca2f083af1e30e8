import { AwsInventory, countLeftovers, describeLeftovers } from "../verify/inventory";
import { ArgoClient, Clock, drain, DrainOptions, DrainReport } from "./drain";

export {
  cascadeFinalizer,
  defaultDrainOptions,
  drain,
  realClock,
  TeardownTimeoutError,
  withRetries,
} from "./drain";
export type { ArgoClient, ArgoObject, Clock, DrainOptions, DrainReport, LeftoverSource } from "./drain";
export { KubectlArgoClient, kubectlRunner } from "./kubectl";

/** Destroy refused because the cluster is deletion-protected; says how to lift the protection on purpose. */
export class DeletionProtectedError extends Error {
  constructor(clusterName: string, stack: string | undefined) {
    const on = stack ? ` --stack ${stack}` : "";
    super(
      [
        `Cluster ${clusterName} has deletion protection on (config cluster.deletionProtection, true by default in prod), so the destroy stops here: nothing was drained or deleted.`,
        "To destroy it on purpose, lift the protection first:",
        `  pulumi config set --path cluster.deletionProtection false${on}`,
        `  pulumi up${on}        # turns protection off on the EKS cluster and removes Pulumi's protect flag`,
        `  pulumi destroy${on}`,
      ].join("\n"),
    );
    this.name = "DeletionProtectedError";
  }
}

export interface TeardownTarget {
  readonly clusterName: string;
  /** The stack, for the commands in messages. */
  readonly stack?: string;
  /** The VPC the cluster lives in; looked up from the cluster when omitted. */
  readonly vpcId?: string;
  /**
   * The cluster's block of the foundation's shared VPC (network.vpcCidr): with the cluster's subnets and security
   * group it bounds which ENIs are the cluster's, also once the cluster is gone.
   */
  readonly cidrBlock?: string;
  /** The EKS-created cluster security group; read from the live cluster when omitted. */
  readonly clusterSecurityGroupId?: string;
  /** What the stack's config says; the live cluster's own flag is checked too. */
  readonly deletionProtection: boolean;
  /** Node pools whose nodes EKS removes with the cluster (Auto Mode's built-in pools). */
  readonly retainedNodePools: readonly string[];
}

export type TeardownInventory = Pick<AwsInventory, "describeCluster" | "describeSubnets" | "findLeftovers">;

/**
 * The ordered teardown of one cluster: refuses a deletion-protected cluster, otherwise drains Argo CD's
 * Applications and waits for the cluster's AWS leftovers (in a shared VPC, only the cluster's own). A cluster that
 * is already gone (a destroy re-run after a failure) only has its leftovers checked once: nothing in AWS would
 * remove them any more.
 */
export async function runTeardown(
  target: TeardownTarget,
  deps: {
    readonly inventory: TeardownInventory;
    readonly argo: () => Promise<ArgoClient>;
    readonly clock: Clock;
  },
  options: Omit<DrainOptions, "clusterName">,
): Promise<DrainReport> {
  const cluster = await deps.inventory.describeCluster(target.clusterName);
  if (cluster && (cluster.deletionProtection === true || target.deletionProtection)) {
    throw new DeletionProtectedError(target.clusterName, target.stack);
  }
  let vpcId = target.vpcId || cluster?.vpcId;
  if (!vpcId && cluster) vpcId = (await deps.inventory.describeSubnets(cluster.subnetIds))[0]?.vpcId;
  const leftovers = {
    find: () =>
      deps.inventory.findLeftovers({
        clusterName: target.clusterName,
        vpcId: vpcId ?? "",
        // Other clusters share the VPC: wait only for this cluster's ENIs, never for theirs.
        subnetIds: cluster?.subnetIds ?? [],
        cidrBlock: target.cidrBlock,
        clusterSecurityGroupId: target.clusterSecurityGroupId || cluster?.clusterSecurityGroupId,
        retainedNodePools: target.retainedNodePools,
      }),
  };
  if (!cluster) {
    options.log(`cluster ${target.clusterName} is already gone: checking for AWS leftovers only`);
    const left = await leftovers.find();
    if (countLeftovers(left) > 0) {
      throw new Error(
        [
          `Cluster ${target.clusterName} is gone but AWS resources it created are still there, and nothing will remove them now:`,
          ...describeLeftovers(left).map((line) => `  ${line}`),
          "Delete them by hand (they block deleting the VPC), then run `pulumi destroy` again.",
        ].join("\n"),
      );
    }
    return { deletedApplications: [], deletedApplicationSets: [], waitedMs: 0 };
  }
  return drain(
    { argo: await deps.argo(), leftovers, clock: deps.clock },
    { ...options, clusterName: target.clusterName },
  );
}
