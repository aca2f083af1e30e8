import { writeFileSync } from "node:fs";
import * as path from "node:path";
import type { ArgoClient, ArgoObject, Clock } from "../teardown/drain";
import { withRetries } from "../teardown/drain";
import { KubectlArgoClient, KubectlRunner } from "../teardown/kubectl";
import { registrationFieldManager } from "../../infra/fleet/registration";

/**
 * The hub side of removing a spoke: before the spoke's cluster Secret leaves the hub, its Applications are removed
 * wave by wave, highest argocd.argoproj.io/sync-wave first (the order of ops/teardown's drain, the reverse of
 * creation). The Applications belong to ApplicationSets shared by the whole fleet, so they cannot be deleted one by
 * one (the ApplicationSet controller would generate them again): instead the spoke's Secret stops matching the
 * ApplicationSets of a wave — their `enable_*` labels are set to "false", exactly what switching an add-on off in
 * the spoke's config does — and the drain waits until that wave's Applications (and, through their cascade
 * finalizer, what they deployed on the spoke) are gone before the next wave.
 *
 * The spoke's own `pulumi destroy` runs it (ops/fleet/registration.ts release) with its deploy role, which may write
 * but not read Secrets on the hub: labels are switched off by re-applying the spoke's whole Secret server-side with
 * the same field manager (a partial apply would drop the fields it leaves out), never by a read-modify-write.
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
            `An Application stuck deleting waits for its resources on the spoke: \`kubectl -n ${options.namespace} get application ${left[0].name} -o yaml\` on the hub. Fix it, then run \`pulumi destroy\` of the spoke again: the drain picks up where it stopped.`,
          ].join("\n"),
        );
      await clock.sleep(options.pollMs);
    }
    report.push({ wave, labels, applications: [...names].sort() });
  }
  return { waves: report };
}

/**
 * kubectl's way of switching labels off on the spoke's Secret without reading it: each call re-applies the whole
 * manifest (server-side, same field manager) with every label switched off so far set to its new value.
 */
export function kubectlSpokeDrainClient(
  run: KubectlRunner,
  manifest: Readonly<Record<string, unknown>>,
  workDir: string,
): SpokeDrainClient {
  const overrides: Record<string, string> = {};
  return {
    argo: new KubectlArgoClient(run),
    async setSecretLabels(namespace, secret, labels) {
      const metadata = manifest.metadata as {
        name: string;
        namespace: string;
        labels: Record<string, string>;
      };
      if (metadata.name !== secret || metadata.namespace !== namespace)
        throw new Error(`the drain may only relabel its own Secret ${metadata.namespace}/${metadata.name}`);
      Object.assign(overrides, labels);
      await serverSideApply(run, workDir, {
        ...manifest,
        metadata: { ...metadata, labels: { ...metadata.labels, ...overrides } },
      });
    },
  };
}

/** `kubectl apply --server-side` of one object: a PATCH (plus create when new), no GET (kubectl apply.go). */
export async function serverSideApply(
  run: KubectlRunner,
  workDir: string,
  object: Readonly<Record<string, unknown>>,
): Promise<void> {
  const file = path.join(workDir, "registration.json");
  writeFileSync(file, JSON.stringify(object), { mode: 0o600 });
  await run(serverSideApplyArgs(file));
}

export function serverSideApplyArgs(file: string): string[] {
  return [
    "apply",
    "--server-side",
    "--field-manager",
    registrationFieldManager,
    // The spoke's stack owns its Secret: a hand edit of the same fields is overwritten, as any drift would be.
    "--force-conflicts",
    "--filename",
    file,
  ];
}
