import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { renderKubeconfig } from "../../infra/kubeconfig";
import { retainedNodePools } from "../../infra/cluster/contract";
import { applicationsKeptOnTeardown } from "../../infra/gitops/argocd";
import { readStackConfig, SdkInventory } from "../verify";
import {
  defaultDrainOptions,
  KubectlArgoClient,
  kubectlRunner,
  realClock,
  runTeardown,
  TeardownTarget,
} from ".";

/**
 * The ordered teardown as a command.
 *
 *   npm run teardown -- <stack> [--timeout-minutes N]   by hand, before or instead of `pulumi destroy`
 *   ts-node ops/teardown/cli.ts --from-env              what OrderedTeardown's delete step runs (TEARDOWN_* variables)
 *
 * Exit 0 when drained (or nothing to drain), 1 when refused or timed out, with the reason on stderr.
 */
export interface TeardownInvocation {
  readonly target: TeardownTarget;
  readonly region: string;
  /** Kubeconfig text; rendered from describe-cluster when omitted. */
  readonly kubeconfig?: string;
  readonly argocdNamespace: string;
  readonly keep: readonly string[];
  readonly timeoutMs: number;
}

export function parseInvocation(argv: readonly string[], env: NodeJS.ProcessEnv): TeardownInvocation {
  if (argv[0] === "--from-env") {
    const required = (name: string) => {
      const value = env[name];
      if (!value) throw new Error(`${name} is not set (OrderedTeardown passes it to this command)`);
      return value;
    };
    const list = (name: string) => (env[name] ?? "").split(",").filter(Boolean);
    return {
      target: {
        clusterName: required("TEARDOWN_CLUSTER_NAME"),
        stack: env.TEARDOWN_STACK,
        vpcId: env.TEARDOWN_VPC_ID || undefined,
        cidrBlock: env.TEARDOWN_CIDR_BLOCK || undefined,
        clusterSecurityGroupId: env.TEARDOWN_CLUSTER_SECURITY_GROUP_ID || undefined,
        deletionProtection: env.TEARDOWN_DELETION_PROTECTION === "true",
        retainedNodePools: list("TEARDOWN_RETAINED_NODE_POOLS"),
      },
      region: required("TEARDOWN_REGION"),
      kubeconfig: required("TEARDOWN_KUBECONFIG"),
      argocdNamespace: env.TEARDOWN_ARGOCD_NAMESPACE || defaultDrainOptions.argocdNamespace,
      keep: list("TEARDOWN_KEEP_APPLICATIONS"),
      timeoutMs: env.TEARDOWN_TIMEOUT_MINUTES
        ? Number(env.TEARDOWN_TIMEOUT_MINUTES) * 60_000
        : defaultDrainOptions.timeoutMs,
    };
  }
  const [stack, ...rest] = argv;
  if (!stack || stack.startsWith("-"))
    throw new Error("usage: npm run teardown -- <stack> [--timeout-minutes N]   (--help for more)");
  const timeoutIndex = rest.indexOf("--timeout-minutes");
  const minutes = timeoutIndex >= 0 ? Number(rest[timeoutIndex + 1]) : defaultDrainOptions.timeoutMs / 60_000;
  if (!(minutes > 0)) throw new Error("--timeout-minutes takes a positive number");
  const config = readStackConfig(stack);
  return {
    target: {
      clusterName: config.cluster.name,
      stack,
      cidrBlock: config.network.vpcCidr,
      deletionProtection: config.cluster.deletionProtection,
      retainedNodePools: retainedNodePools(config.compute.mode),
    },
    region: config.region,
    argocdNamespace: defaultDrainOptions.argocdNamespace,
    keep: applicationsKeptOnTeardown(config.cluster.name),
    timeoutMs: minutes * 60_000,
  };
}

export const teardownUsage = `usage: npm run teardown -- <stack> [--timeout-minutes N]
       ts-node ops/teardown/cli.ts --from-env        (what the program's OrderedTeardown runs on destroy)

Drains what Argo CD created before \`pulumi destroy\` removes the cluster: stops auto-sync, deletes Applications and
ApplicationSets (add-ons that hold the cluster together last), then waits until no load balancer, volume,
Karpenter node or detached network interface of the cluster is left. The VPC is the foundation's, shared with
other clusters: only the cluster's own subnets, block (network.vpcCidr), security group and tags count.
Exit 0 when drained, 1 when refused or timed out (reason on stderr).

options:
  --timeout-minutes N   how long to wait for AWS to release what the add-ons created (default ${defaultDrainOptions.timeoutMs / 60_000})
  -h, --help            this help

examples:
  npm run teardown -- dev
  npm run teardown -- staging --timeout-minutes 45`;

export async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<void> {
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(`${teardownUsage}\n`);
    return;
  }
  const invocation = parseInvocation(argv, env);
  const inventory = new SdkInventory({ region: invocation.region });
  const log = (message: string) => process.stderr.write(`teardown: ${message}\n`);
  const workDir = mkdtempSync(path.join(tmpdir(), "teardown-"));
  try {
    const argo = async () => {
      let kubeconfig = invocation.kubeconfig;
      if (!kubeconfig) {
        const cluster = await inventory.describeCluster(invocation.target.clusterName);
        kubeconfig = renderKubeconfig({
          clusterName: invocation.target.clusterName,
          endpoint: cluster?.endpoint ?? "",
          certificateAuthorityData: cluster?.certificateAuthorityData ?? "",
          region: invocation.region,
        });
      }
      const file = path.join(workDir, "kubeconfig");
      writeFileSync(file, kubeconfig, { mode: 0o600 });
      return new KubectlArgoClient(kubectlRunner(file));
    };
    const report = await runTeardown(
      invocation.target,
      { inventory, argo, clock: realClock },
      {
        ...defaultDrainOptions,
        argocdNamespace: invocation.argocdNamespace,
        keep: invocation.keep,
        timeoutMs: invocation.timeoutMs,
        log,
      },
    );
    log(
      `done in ${Math.round(report.waitedMs / 1000)} s: deleted ${report.deletedApplications.length} Application(s), ${report.deletedApplicationSets.length} ApplicationSet(s); no load balancers, volumes, pool nodes or detached ENIs of the cluster left`,
    );
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main(process.argv.slice(2), process.env).catch((error: unknown) => {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exitCode = 1;
  });
}
