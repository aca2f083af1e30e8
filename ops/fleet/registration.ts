import { isRecord } from "../../infra/objects";
import { defaultDrainOptions } from "../../infra/teardown/defaults";
import { Clock, realClock } from "../teardown/drain";
import type { KubectlRunner } from "../teardown/kubectl";
import { drainSpoke, kubectlSpokeDrainClient, serverSideApply, SpokeDrainReport } from "./drain";
import { withHubKubectl } from "./hub-kubectl";

/**
 * A spoke's registration with its hub, run by the spoke's `pulumi up` / `destroy` (infra/fleet/component.ts
 * SpokeRegistration) on the in-VPC runner with the spoke environment's deploy role:
 *
 *   ts-node ops/fleet/registration.ts apply     server-side apply of the spoke's cluster Secret into the hub
 *   ts-node ops/fleet/registration.ts release   drain the spoke's Applications from the hub in wave order, then
 *                                               delete the Secret
 *
 * Environment: FLEET_HUB_KUBECONFIG (the hub's, `aws eks get-token`), FLEET_REGISTRATION (the Secret, JSON),
 * FLEET_REGISTRATION_SERVER (its `server`). Every call needs only create/patch/delete on Secrets and read on
 * Applications: kubectl's server-side apply sends one PATCH without a GET, and `delete --wait=false` sends one DELETE
 * (kubectl v0.36.3 apply.go, delete.go; test/fixtures/upstream/kubectl-0.36.3.registration-verbs.json).
 */

/** For a hub whose cluster is gone for good (documented in docs/gitops.md): release without touching it. */
export const releaseOverride = "FLEET_RELEASE_IGNORE_HUB";

export interface Registration {
  readonly manifest: Record<string, unknown>;
  readonly name: string;
  readonly namespace: string;
  readonly server: string;
}

export function parseRegistration(env: NodeJS.ProcessEnv): Registration {
  const required = (name: string) => {
    const value = env[name];
    if (!value) throw new Error(`${name} is not set (SpokeRegistration passes it to this command)`);
    return value;
  };
  const manifest: unknown = JSON.parse(required("FLEET_REGISTRATION"));
  const metadata = isRecord(manifest) ? manifest.metadata : undefined;
  if (
    !isRecord(manifest) ||
    manifest.kind !== "Secret" ||
    !isRecord(metadata) ||
    typeof metadata.name !== "string" ||
    typeof metadata.namespace !== "string"
  )
    throw new Error("FLEET_REGISTRATION is not a Secret with a name and a namespace");
  return {
    manifest,
    name: metadata.name,
    namespace: metadata.namespace,
    server: required("FLEET_REGISTRATION_SERVER"),
  };
}

export function deleteSecretArgs(registration: Registration): string[] {
  return [
    "delete",
    "secret",
    registration.name,
    "--namespace",
    registration.namespace,
    "--ignore-not-found",
    // Waiting would watch the Secret: a registrar may not read Secrets.
    "--wait=false",
  ];
}

export async function applyRegistration(
  run: KubectlRunner,
  workDir: string,
  registration: Registration,
): Promise<string> {
  await serverSideApply(run, workDir, registration.manifest);
  return `applied ${registration.namespace}/${registration.name} on the hub`;
}

export async function releaseRegistration(
  run: KubectlRunner,
  workDir: string,
  registration: Registration,
  clock: Clock,
  log: (message: string) => void,
): Promise<SpokeDrainReport> {
  const report = await drainSpoke(kubectlSpokeDrainClient(run, registration.manifest, workDir), clock, {
    namespace: registration.namespace,
    secretName: registration.name,
    server: registration.server,
    timeoutMs: defaultDrainOptions.timeoutMs,
    pollMs: defaultDrainOptions.pollMs,
    attempts: defaultDrainOptions.attempts,
    log,
  });
  await run(deleteSecretArgs(registration));
  log(`deleted ${registration.namespace}/${registration.name} on the hub`);
  return report;
}

export const registrationUsage = `usage: ts-node ops/fleet/registration.ts apply|release   (what a spoke's fleet registration runs)

apply: server-side applies the spoke's cluster Secret into the hub's Argo CD namespace.
release: drains the spoke's Applications on the hub, then deletes its Secret (a spoke's destroy).
Reads, from the environment: FLEET_HUB_KUBECONFIG, FLEET_REGISTRATION, FLEET_REGISTRATION_SERVER; ${releaseOverride}=true
skips the release (the hub is gone for good).

examples:
  npx ts-node --transpile-only ops/fleet/registration.ts apply
  npx ts-node --transpile-only ops/fleet/registration.ts release
`;

export async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<void> {
  const action = argv[0];
  if (action === "--help" || action === "-h") {
    process.stdout.write(registrationUsage);
    return;
  }
  if (action !== "apply" && action !== "release")
    throw new Error(
      `${action === undefined ? "no action given" : `unknown action ${JSON.stringify(action)}`}: pass apply or release\n\n${registrationUsage}`,
    );
  const log = (message: string) => process.stderr.write(`fleet registration: ${message}\n`);
  const registration = parseRegistration(env);
  if (action === "release" && env[releaseOverride] === "true") {
    log(`${releaseOverride} is set: not draining nor deleting ${registration.name} on the hub`);
    return;
  }
  await withHubKubectl(env.FLEET_HUB_KUBECONFIG, "FLEET_HUB_KUBECONFIG", async (run, workDir) => {
    if (action === "apply") log(await applyRegistration(run, workDir, registration));
    else await releaseRegistration(run, workDir, registration, realClock, log);
  });
}

if (require.main === module) {
  main(process.argv.slice(2), process.env).catch((error: unknown) => {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exitCode = 1;
  });
}
