import { countLeftovers, describeLeftovers, Leftovers } from "../verify/inventory";

import { cascadeFinalizer } from "../../infra/gitops/argocd";

export { cascadeFinalizer };

export interface ArgoObject {
  readonly kind: "Application" | "ApplicationSet";
  readonly name: string;
  readonly namespace: string;
  readonly finalizers: readonly string[];
  /** argocd.argoproj.io/sync-wave (0 when unset): higher waves are deleted first, the reverse of creation. */
  readonly syncWave: number;
  /** Already has a deletionTimestamp. */
  readonly deleting: boolean;
  /** spec.syncPolicy.automated is set: a parent (app of apps) would re-create what the drain deletes. */
  readonly autoSync: boolean;
  /** Name of the ApplicationSet that generated this Application (its ownerReference), if any. */
  readonly owner?: string;
  /** Application: spec.destination.server (a fleet hub drains one spoke's Applications, ops/fleet/drain.ts). */
  readonly destinationServer?: string;
  /** ApplicationSet: the cluster generator's matchLabels (which cluster Secret labels select it). */
  readonly clusterSelector?: Readonly<Record<string, string>>;
}

/** The few Kubernetes calls the drain makes; kubectl in production, a fake in tests. */
export interface ArgoClient {
  /** Applications and ApplicationSets in the namespace; [] when Argo CD's CRDs are not (or no longer) installed. */
  list(namespace: string): Promise<ArgoObject[]>;
  setFinalizers(object: ArgoObject, finalizers: readonly string[]): Promise<void>;
  /** Removes spec.syncPolicy.automated from an Application. */
  stopAutoSync(object: ArgoObject): Promise<void>;
  /** Asks for deletion without waiting; an object already gone is not an error. */
  delete(object: ArgoObject): Promise<void>;
}

export interface LeftoverSource {
  find(): Promise<Leftovers>;
}

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export interface DrainOptions {
  readonly clusterName: string;
  readonly argocdNamespace: string;
  /** Applications/ApplicationSets left alone (e.g. one that manages Argo CD itself). */
  readonly keep: readonly string[];
  /** Whole drain, Kubernetes and AWS waits together. */
  readonly timeoutMs: number;
  readonly pollMs: number;
  /** Attempts per Kubernetes write before giving up (transient API errors, throttling). */
  readonly attempts: number;
  readonly log: (message: string) => void;
}

export { defaultDrainOptions } from "../../infra/teardown/defaults";

export interface DrainReport {
  readonly deletedApplications: readonly string[];
  readonly deletedApplicationSets: readonly string[];
  readonly waitedMs: number;
}

/** The drain ran out of time; the message names everything still there and how to proceed. */
export class TeardownTimeoutError extends Error {
  constructor(
    readonly remainingApplications: readonly string[],
    readonly leftovers: Leftovers | undefined,
    options: Pick<DrainOptions, "clusterName" | "argocdNamespace" | "timeoutMs">,
  ) {
    const minutes = Math.round(options.timeoutMs / 60_000);
    const lines = [
      `Ordered teardown of ${options.clusterName} did not finish within ${minutes} min. Still left:`,
    ];
    if (remainingApplications.length > 0) {
      lines.push(`  Argo CD objects in ${options.argocdNamespace}: ${remainingApplications.join(", ")}`);
      lines.push(
        `  (an Application stuck deleting waits for its resources: \`kubectl -n ${options.argocdNamespace} get applications\`; if a resource can never go, remove the finalizer ${cascadeFinalizer} from that Application by hand, and delete what it orphans)`,
      );
    }
    for (const line of leftovers ? describeLeftovers(leftovers) : []) lines.push(`  ${line}`);
    lines.push(
      "Nothing else was deleted. Fix or remove what is listed, then run `pulumi destroy` again: the drain picks up where it stopped.",
    );
    super(lines.join("\n"));
    this.name = "TeardownTimeoutError";
  }
}

/**
 * Drains what Argo CD deployed before Argo CD and the cluster are deleted, so nothing the cluster created in AWS
 * outlives it:
 *  1. turns off automated sync on stand-alone Applications, so an app of apps stops re-creating what is deleted;
 *  2. adds the cascading finalizer to every Application;
 *  3. deletes, wave by wave from the highest argocd.argoproj.io/sync-wave down (the reverse of creation), the
 *     ApplicationSets (their generated Applications go with them, by owner reference; an ApplicationSet counts at
 *     the highest wave among itself and its Applications) and the stand-alone Applications, waiting for each wave
 *     to be gone, so a controller (lower wave) outlives what it cleans up (higher wave);
 *  4. waits until the cluster's load balancers, volumes and non-retained nodes are gone from AWS.
 * Idempotent: a second run finds less to do, and nothing at all once everything is gone.
 */
export async function drain(
  clients: { readonly argo: ArgoClient; readonly leftovers: LeftoverSource; readonly clock: Clock },
  options: DrainOptions,
): Promise<DrainReport> {
  const { argo, leftovers, clock } = clients;
  const started = clock.now();
  const deadline = started + options.timeoutMs;
  const ns = options.argocdNamespace;
  const managed = (object: ArgoObject) => !options.keep.includes(object.name);
  const retry = <T>(what: string, action: () => Promise<T>) =>
    withRetries(what, action, options.attempts, clock, options.log);
  const label = (object: ArgoObject) => `${object.kind} ${object.name}`;
  const finalize = (application: ArgoObject) =>
    application.kind === "Application" &&
    !application.deleting &&
    !application.finalizers.includes(cascadeFinalizer)
      ? retry(`add ${cascadeFinalizer} to ${label(application)}`, () =>
          argo.setFinalizers(application, [...application.finalizers, cascadeFinalizer]),
        )
      : Promise.resolve();

  const initial = (await retry(`list Argo CD objects in ${ns}`, () => argo.list(ns))).filter(managed);
  const applicationSets = initial.filter((object) => object.kind === "ApplicationSet");
  const setNames = new Set(applicationSets.map((set) => set.name));
  const applications = initial.filter((object) => object.kind === "Application");
  const standalone = applications.filter(
    (application) => !application.owner || !setNames.has(application.owner),
  );
  options.log(
    `${applications.length} Application(s) and ${applicationSets.length} ApplicationSet(s) to drain in ${ns}`,
  );

  for (const application of standalone) {
    if (application.autoSync && !application.deleting) {
      await retry(`turn off automated sync of ${label(application)}`, () => argo.stopAutoSync(application));
    }
  }
  for (const application of applications) await finalize(application);

  // What is deleted together, and what has to be gone before the next (lower) wave starts.
  const units = [
    ...applicationSets.map((set) => {
      const generated = applications.filter((application) => application.owner === set.name);
      return {
        object: set,
        wave: Math.max(set.syncWave, ...generated.map((application) => application.syncWave)),
        members: [set.name, ...generated.map((application) => application.name)],
      };
    }),
    ...standalone.map((application) => ({
      object: application,
      wave: application.syncWave,
      members: [application.name],
    })),
  ];
  for (const wave of [...new Set(units.map((unit) => unit.wave))].sort((a, b) => b - a)) {
    const inWave = units.filter((unit) => unit.wave === wave);
    const members = inWave.flatMap((unit) => unit.members);
    options.log(`deleting sync-wave ${wave}: ${inWave.map((unit) => label(unit.object)).join(", ")}`);
    // The ApplicationSet controller may have rewritten its Applications since the first pass.
    const current = await retry(`list Argo CD objects in ${ns}`, () => argo.list(ns));
    for (const object of current.filter((candidate) => members.includes(candidate.name)))
      await finalize(object);
    for (const unit of inWave) {
      if (!unit.object.deleting) await retry(`delete ${label(unit.object)}`, () => argo.delete(unit.object));
    }
    await waitForObjects(members);
  }
  // Anything created meanwhile (an ApplicationSet's last reconcile, a parent's last sync) goes too.
  await waitForObjects(undefined);

  let last: Leftovers | undefined;
  for (;;) {
    try {
      last = await leftovers.find();
      if (countLeftovers(last) === 0) break;
      options.log(`waiting for AWS resources the cluster created: ${describeLeftovers(last).join("; ")}`);
    } catch (error) {
      options.log(`could not list AWS leftovers (will retry): ${(error as Error).message}`);
    }
    if (clock.now() + options.pollMs > deadline) throw new TeardownTimeoutError([], last, options);
    await clock.sleep(options.pollMs);
  }

  return {
    deletedApplications: applications.map((application) => application.name),
    deletedApplicationSets: applicationSets.map((set) => set.name),
    waitedMs: clock.now() - started,
  };

  /** Waits until the named objects (every managed object when undefined) are gone, deleting newcomers. */
  async function waitForObjects(names: readonly string[] | undefined): Promise<void> {
    let remaining: ArgoObject[] = [];
    for (;;) {
      try {
        const present = (await argo.list(ns)).filter(managed);
        remaining = names ? present.filter((object) => names.includes(object.name)) : present;
        if (remaining.length === 0) return;
        if (names === undefined) {
          for (const object of remaining.filter((candidate) => !candidate.deleting)) {
            if (object.kind === "Application" && object.autoSync) await argo.stopAutoSync(object);
            await finalize(object);
            await argo.delete(object);
          }
        }
      } catch (error) {
        options.log(`Kubernetes API error while waiting (will retry): ${(error as Error).message}`);
      }
      if (clock.now() + options.pollMs > deadline) {
        throw new TeardownTimeoutError(remaining.map(label), undefined, options);
      }
      await clock.sleep(options.pollMs);
    }
  }
}

/** Runs `action` up to `attempts` times with exponential backoff (1 s, 2 s, 4 s …, at most 30 s). */
export async function withRetries<T>(
  label: string,
  action: () => Promise<T>,
  attempts: number,
  clock: Clock,
  log: (message: string) => void,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await action();
    } catch (error) {
      const message = (error as Error).message;
      if (attempt >= attempts) throw new Error(`${label} failed after ${attempts} attempts: ${message}`);
      log(`${label} failed (attempt ${attempt}/${attempts}), retrying: ${message}`);
      await clock.sleep(Math.min(1000 * 2 ** (attempt - 1), 30_000));
    }
  }
}
