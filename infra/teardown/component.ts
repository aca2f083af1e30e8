import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { retainedNodePools } from "../cluster/contract";
import { defaultDrainOptions } from "./defaults";
import { opsScript } from "../ops-script";

export interface OrderedTeardownArgs {
  readonly clusterName: pulumi.Input<string>;
  readonly region: pulumi.Input<string>;
  /** Kubeconfig using `aws eks get-token` (no static credentials); keep it secret. */
  readonly kubeconfig: pulumi.Input<string>;
  readonly vpcId: pulumi.Input<string>;
  /** The cluster's block of the shared VPC and its security group: the drain waits only for the cluster's ENIs. */
  readonly cidrBlock: string;
  readonly clusterSecurityGroupId: pulumi.Input<string>;
  readonly computeMode: "auto" | "karpenter";
  /** The stack config's cluster.deletionProtection: a protected cluster is never drained. */
  readonly deletionProtection: boolean;
  /**
   * What must outlive the drain, i.e. be deleted after it: the EKS cluster, the Argo CD release, the access
   * entries that let the deploy role in, node groups. Pulumi deletes dependents first, so this runs before them.
   */
  readonly dependsOn: pulumi.Input<pulumi.Resource>[];
  /** Namespace of Argo CD's Applications (default "argocd"). */
  readonly argocdNamespace?: string;
  /** Applications or ApplicationSets the drain leaves alone, e.g. one that manages Argo CD itself. */
  readonly keepApplications?: readonly string[];
  /** Bound on the whole drain (default 20). */
  readonly timeoutMinutes?: number;
}

/**
 * Drains the cluster on `pulumi destroy` before Argo CD and the cluster go: a delete-only local command that runs
 * the tested TypeScript teardown (ops/teardown/cli.ts) on the machine running Pulumi. A command rather than a
 * dynamic provider because the teardown needs AWS SDK clients, kubectl and a temp kubeconfig, none of which survive
 * closure serialization; the command runs the same code as `npm run teardown`, with the project's node_modules.
 *
 * Never give the inner command `triggers`: a replacement would run the delete step, i.e. drain a live cluster.
 */
export class OrderedTeardown extends pulumi.ComponentResource {
  readonly command: command.local.Command;

  constructor(name: string, args: OrderedTeardownArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:ops:OrderedTeardown", name, {}, opts);
    const timeoutMinutes = args.timeoutMinutes ?? defaultDrainOptions.timeoutMs / 60_000;
    this.command = new command.local.Command(
      `${name}-drain`,
      {
        // Nothing to do on create: the resource exists to order the delete.
        delete: opsScript("ops/teardown/cli.ts", "--from-env"),
        environment: {
          TEARDOWN_CLUSTER_NAME: args.clusterName,
          TEARDOWN_REGION: args.region,
          TEARDOWN_VPC_ID: args.vpcId,
          TEARDOWN_CIDR_BLOCK: args.cidrBlock,
          TEARDOWN_CLUSTER_SECURITY_GROUP_ID: args.clusterSecurityGroupId,
          TEARDOWN_KUBECONFIG: pulumi.secret(args.kubeconfig),
          TEARDOWN_STACK: pulumi.getStack(),
          TEARDOWN_DELETION_PROTECTION: String(args.deletionProtection),
          TEARDOWN_RETAINED_NODE_POOLS: retainedNodePools(args.computeMode).join(","),
          TEARDOWN_ARGOCD_NAMESPACE: args.argocdNamespace ?? defaultDrainOptions.argocdNamespace,
          TEARDOWN_KEEP_APPLICATIONS: (args.keepApplications ?? []).join(","),
          TEARDOWN_TIMEOUT_MINUTES: String(timeoutMinutes),
        },
        logging: command.types.enums.local.Logging.StdoutAndStderr,
      },
      {
        parent: this,
        dependsOn: args.dependsOn,
        // The command bounds itself; the engine's own limit only has to be longer.
        customTimeouts: { delete: `${timeoutMinutes + 10}m` },
      },
    );
    this.registerOutputs({});
  }
}
