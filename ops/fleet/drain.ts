import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import type { ArgoClient, ArgoObject, Clock } from "../teardown/drain";
import { realClock, withRetries } from "../teardown/drain";
import { KubectlArgoClient, kubectlRunner, KubectlRunner } from "../teardown/kubectl";
import { defaultDrainOptions } from "../../infra/teardown/defaults";

/**
 * The hub side of removing a spoke: before the spoke's cluster Secret leaves the hub, its Applications are removed
 * wave by wave, highest argocd.argoproj.io/sync-wave first (the order of ops/teardown's drain, the reverse of
 * creation). The Applications belong to ApplicationSets shared by the whole fleet, so they cannot be deleted one by
 * one (the ApplicationSet controller would generate them again): instead the spoke's Secret stops matching the
 * ApplicationSets of a wave — their `enable_*` labels are set to "false", exactly what switching an add-on off in
 * the spoke's config does — and the drain waits until that wave's Applications (and, through their cascade
 * finalizer, what they deployed on the spoke) are gone before the next wave.
 *
 *   ts-node ops/fleet/drain.ts --from-env      what FleetHub's per-spoke delete step runs (FLEET_DRAIN_* variables)
 */

export interface SpokeDrainClient {
  readonly argo: Pick<ArgoClient, "list">;
  /** Sets labels on the spoke's cluster Secret (other labels unchanged). */
  setSecretLabels(namespace: string, secret: string, labels: Readonly<Record<string, string>>): Promise<void>;
}

export interface SpokeDrainOptions {
  readonly namespace: string;
  /** The spoke's cluster Secret on the hub, and the server its Applications deploy to. */
  readonly secretName: string;
  readonly server: string;
  readonly timeoutMs: number;
  readonly pollMs: number;
  readonly attempts: number;
  readonly log: (message: string) => void;
}

export interface SpokeDrainReport {
  /** Per wave, highest first: the labels switched off and the Applications that went. */
  readonly waves: { readonly wave: number; readonly labels: string[]; readonly applications: string[] }[];
}

export async function drainSpoke(
  client: SpokeDrainClient,
  clock: Clock,
  options: SpokeDrainOptions,
): Promise<SpokeDrainReport> {
  const deadline = clock.now() + options.timeoutMs;
  const retry = <T>(what: string, action: () => Promise<T>) =>
    withRetries(what, action, options.attempts, clock, options.log);
  const list = () =>
    retry(`list Argo CD objects in ${options.namespace}`, () => client.argo.list(options.namespace));
  const targeting = (objects: readonly ArgoObject[]) =>
    objects.filter((object) => object.kind === "Application" && object.destinationServer === options.server);

  const objects = await list();
  const selectors = new Map(
    objects
      .filter((object) => object.kind === "ApplicationSet")
      .map((set) => [set.name, set.clusterSelector ?? {}] as const),
  );
  const applications = targeting(objects);
  const unowned = applications.filter(
    (application) => !application.owner || !selectors.has(application.owner),
  );
  if (unowned.length > 0)
    throw new Error(
      `Cannot drain ${options.secretName}: ${unowned.map((app) => app.name).join(", ")} deploy(s) to it but no ApplicationSet generated them; delete or retarget them by hand, then retry. Nothing was changed.`,
    );
  const waves = [...new Set(applications.map((application) => application.syncWave))].sort((a, b) => b - a);
  options.log(
    `${applications.length} Application(s) deploy to ${options.secretName}, in waves ${waves.join(", ")}`,
  );
  const report: SpokeDrainReport["waves"] = [];
  for (const wave of waves) {
    const inWave = applications.filter((application) => application.syncWave === wave);
    const labels = [
      ...new Set(
        inWave.flatMap((application) =>
          Object.keys(selectors.get(application.owner as string) ?? {}).filter((key) =>
            key.startsWith("enable_"),
          ),
        ),
      ),
    ].sort();
    if (labels.length === 0)
      throw new Error(
        `Cannot drain ${options.secretName}: the ApplicationSets of ${inWave.map((app) => app.name).join(", ")} select no enable_* label to switch off`,
      );
    options.log(`wave ${wave}: switching off ${labels.join(", ")}`);
    await retry(`label Secret ${options.secretName}`, () =>
      client.setSecretLabels(
        options.namespace,
        options.secretName,
        Object.fromEntries(labels.map((label) => [label, "false"])),
      ),
    );
    const names = new Set(inWave.map((application) => application.name));
    for (;;) {
      const left = targeting(await list()).filter((application) => names.has(application.name));
      if (left.length === 0) break;
      if (clock.now() >= deadline)
        throw new Error(
          [
            `Draining ${options.secretName} did not finish within ${Math.round(options.timeoutMs / 60_000)} min: ${left.map((app) => app.name).join(", ")} still deleting (wave ${wave}).`,
            `An Application stuck deleting waits for its resources on the spoke: \`kubectl -n ${options.namespace} get application ${left[0].name} -o yaml\`. Fix it, then run \`pulumi up\` of the hub again: the drain picks up where it stopped.`,
          ].join("\n"),
        );
      await clock.sleep(options.pollMs);
    }
    report.push({ wave, labels, applications: [...names].sort() });
  }
  return { waves: report };
}

/** kubectl's way of setting labels on one Secret. */
export function kubectlSpokeDrainClient(run: KubectlRunner): SpokeDrainClient {
  return {
    argo: new KubectlArgoClient(run),
    async setSecretLabels(namespace, secret, labels) {
      await run([
        "label",
        "secret",
        secret,
        "--namespace",
        namespace,
        "--overwrite",
        ...Object.entries(labels).map(([key, value]) => `${key}=${value}`),
      ]);
    },
  };
}

export async function main(env: NodeJS.ProcessEnv): Promise<SpokeDrainReport> {
  const required = (name: string) => {
    const value = env[name];
    if (!value) throw new Error(`${name} is not set (FleetHub passes it to this command)`);
    return value;
  };
  const workDir = mkdtempSync(path.join(tmpdir(), "fleet-drain-"));
  try {
    const kubeconfig = path.join(workDir, "kubeconfig");
    writeFileSync(kubeconfig, required("FLEET_DRAIN_KUBECONFIG"), { mode: 0o600 });
    const log = (message: string) => process.stderr.write(`fleet drain: ${message}\n`);
    return await drainSpoke(kubectlSpokeDrainClient(kubectlRunner(kubeconfig)), realClock, {
      namespace: env.FLEET_DRAIN_NAMESPACE || defaultDrainOptions.argocdNamespace,
      secretName: required("FLEET_DRAIN_SECRET"),
      server: required("FLEET_DRAIN_SERVER"),
      timeoutMs: defaultDrainOptions.timeoutMs,
      pollMs: defaultDrainOptions.pollMs,
      attempts: defaultDrainOptions.attempts,
      log,
    });
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main(process.env).catch((error: unknown) => {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exitCode = 1;
  });
}
