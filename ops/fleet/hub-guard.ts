import { fleetSpokeLabel, fleetSpokeStackAnnotation } from "../../infra/fleet/registration";
import type { KubectlRunner } from "../teardown/kubectl";
import { withHubKubectl } from "./hub-kubectl";

/**
 * The hub side of `pulumi destroy`: a hub refuses to go while spokes are registered, because their Applications
 * would be orphaned mid-flight (and their Secrets point Argo CD at clusters nobody drains). Each spoke leaves with its
 * own `pulumi destroy` (which drains it from the hub); then the hub can be destroyed.
 *
 *   ts-node ops/fleet/hub-guard.ts      what FleetHubGuard's delete step runs (FLEET_HUB_* variables)
 */

/** For a fleet whose spokes are gone for good without a destroy (documented in docs/gitops.md). */
export const hubGuardOverride = "FLEET_HUB_IGNORE_SPOKES";

/** Names and stacks only: the hub's deploy role could read the Secrets, but nothing of them is printed. */
export function listSpokesArgs(namespace: string): string[] {
  return [
    "get",
    "secrets",
    "--namespace",
    namespace,
    "--selector",
    `${fleetSpokeLabel}=true`,
    "--output",
    `custom-columns=NAME:.metadata.name,STACK:.metadata.annotations.${fleetSpokeStackAnnotation}`,
    "--no-headers",
  ];
}

export async function checkHubRemovable(run: KubectlRunner, namespace: string): Promise<string> {
  const rows = (await run(listSpokesArgs(namespace)))
    .split("\n")
    .map((line) => line.trim().split(/\s+/))
    .filter((row) => row[0] !== undefined && row[0] !== "");
  if (rows.length === 0) return "no spoke is registered";
  throw new Error(
    [
      `Cannot destroy this hub: ${rows.length} spoke(s) are registered with it, and its Argo CD still deploys to them. Nothing was deleted.`,
      ...rows.map(([name, stack]) => `  ${name}  (stack ${stack ?? "unknown"})`),
      "Destroy each spoke first (`pulumi destroy --stack <stack>`: it drains its Applications from this hub and removes its Secret), then destroy the hub again.",
      `If a spoke's cluster is already gone for good, set ${hubGuardOverride}=true for this destroy.`,
    ].join("\n"),
  );
}

export async function main(env: NodeJS.ProcessEnv): Promise<string> {
  if (env[hubGuardOverride] === "true")
    return `${hubGuardOverride} is set: not checking for registered spokes`;
  const namespace = env.FLEET_HUB_NAMESPACE;
  if (!namespace) throw new Error("FLEET_HUB_NAMESPACE is not set (FleetHubGuard passes it)");
  return withHubKubectl(env.FLEET_HUB_KUBECONFIG, "FLEET_HUB_KUBECONFIG", (run) =>
    checkHubRemovable(run, namespace),
  );
}

export const hubGuardUsage = `usage: ts-node ops/fleet/hub-guard.ts        (what a fleet hub's FleetHubGuard runs on destroy)

Refuses the destroy of a fleet hub while spokes are still registered on it: lists their cluster Secrets and exits 1,
which stops \`pulumi destroy\` before the hub's Argo CD goes. Exit 0 when none is left. Reads, from the environment:
  FLEET_HUB_NAMESPACE     the hub's Argo CD namespace (where spokes' cluster Secrets live)
  FLEET_HUB_KUBECONFIG    kubeconfig of the hub cluster
  ${hubGuardOverride}   true: skip the check (a spoke's cluster is gone for good)

examples:
  FLEET_HUB_NAMESPACE=argocd FLEET_HUB_KUBECONFIG="$(cat hub.kubeconfig)" npx ts-node --transpile-only ops/fleet/hub-guard.ts
`;

if (require.main === module && process.argv.slice(2).some((arg) => arg === "--help" || arg === "-h")) {
  process.stdout.write(hubGuardUsage);
} else if (require.main === module) {
  main(process.env).then(
    (line) => process.stderr.write(`fleet hub guard: ${line}\n`),
    (error: unknown) => {
      process.stderr.write(`${(error as Error).message}\n`);
      process.exitCode = 1;
    },
  );
}
