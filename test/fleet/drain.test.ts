import { strict as assert } from "node:assert";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { registrationFieldManager } from "../../infra/fleet/registration";
import { drainSpoke, kubectlSpokeDrainClient, SpokeDrainClient } from "../../ops/fleet/drain";
import type { ArgoObject, Clock } from "../../ops/teardown/drain";
import { applicationSets, Tree } from "../addons/support";

const server = "https://SPOKE.gr7.eu-west-1.eks.amazonaws.com";
const other = "https://OTHER.gr7.eu-west-1.eks.amazonaws.com";

/**
 * A hub as the drain sees it: the ApplicationSets of addons/ (their real selectors and waves), the Applications they
 * generated for two clusters, and an ApplicationSet controller that deletes a cluster's Application one poll after
 * its Secret stops matching (the cascade finalizer takes a while).
 */
class FakeHub implements SpokeDrainClient {
  readonly labels: Record<string, Record<string, string>> = {};
  readonly events: string[] = [];
  private readonly deleting = new Set<string>();
  private objects: ArgoObject[] = [];
  constructor(spokeLabels: Record<string, string>) {
    this.labels["cluster-spoke"] = { ...spokeLabels };
    this.labels["cluster-other"] = { ...spokeLabels };
    for (const { set } of applicationSets()) {
      const name = String((set.metadata as Tree).name);
      const spec = set.spec as Tree;
      const selector = ((spec.generators as Tree[])[0].clusters as Tree).selector as Tree;
      const matchLabels = selector.matchLabels as Record<string, string>;
      const template = (spec.template as Tree).metadata as Tree;
      const wave = Number(
        ((template.annotations as Tree | undefined) ?? {})["argocd.argoproj.io/sync-wave"] ?? 0,
      );
      this.objects.push(this.object("ApplicationSet", name, 0, { clusterSelector: matchLabels }));
      for (const [secret, destination] of [
        ["cluster-spoke", server],
        ["cluster-other", other],
      ] as const)
        if (Object.entries(matchLabels).every(([key, value]) => this.labels[secret][key] === value))
          this.objects.push(
            this.object("Application", `${name}-${secret}`, wave, {
              owner: name,
              destinationServer: destination,
            }),
          );
    }
  }
  private object(
    kind: ArgoObject["kind"],
    name: string,
    syncWave: number,
    extra: Partial<ArgoObject>,
  ): ArgoObject {
    return {
      kind,
      name,
      namespace: "argocd",
      finalizers: [],
      syncWave,
      deleting: false,
      autoSync: false,
      ...extra,
    };
  }
  readonly argo = {
    list: async (): Promise<ArgoObject[]> => {
      // Applications marked on the previous poll are gone now; newly unmatched ones start deleting.
      this.objects = this.objects.filter((object) => !this.deleting.has(object.name));
      for (const object of this.objects)
        if (object.kind === "Application" && !this.matches(object)) this.deleting.add(object.name);
      return this.objects.map((object) => ({ ...object, deleting: this.deleting.has(object.name) }));
    },
  };
  private matches(application: ArgoObject): boolean {
    const set = this.objects.find(
      (object) => object.kind === "ApplicationSet" && object.name === application.owner,
    );
    const secret = application.destinationServer === server ? "cluster-spoke" : "cluster-other";
    return Object.entries(set?.clusterSelector ?? {}).every(
      ([key, value]) => this.labels[secret][key] === value,
    );
  }
  async setSecretLabels(_namespace: string, secret: string, labels: Record<string, string>): Promise<void> {
    this.events.push(`label ${Object.keys(labels).join(",")}`);
    Object.assign(this.labels[secret], labels);
  }
  applications(destination: string): string[] {
    return this.objects
      .filter((object) => object.kind === "Application" && object.destinationServer === destination)
      .map((object) => object.name);
  }
}

function fakeClock(): Clock & { slept: number } {
  let now = 0;
  const clock = {
    slept: 0,
    now: () => now,
    sleep: async (ms: number) => {
      now += ms;
      clock.slept += ms;
    },
  };
  return clock;
}

const spokeB = {
  "argocd.argoproj.io/secret-type": "cluster",
  environment: "staging",
  compute_mode: "karpenter",
  argocd_availability: "single",
  enable_argocd: "false",
  enable_cluster_base: "true",
  enable_karpenter: "true",
  enable_cilium: "false",
  enable_falco: "true",
  enable_kubecost: "false",
  enable_coredns_autoscaler: "true",
};
const options = {
  namespace: "argocd",
  secretName: "cluster-spoke",
  server,
  timeoutMs: 20 * 60_000,
  pollMs: 15_000,
  attempts: 3,
  log: () => undefined,
};

describe("fleet: removing a spoke drains its Applications from the hub in order", () => {
  it("switches the spoke's add-ons off wave by wave, highest first, waiting for each wave; other clusters untouched", async () => {
    const hub = new FakeHub(spokeB);
    const before = hub.applications(other);
    const report = await drainSpoke(hub, fakeClock(), options);
    assert.deepEqual(hub.applications(server), [], "nothing deploys to the spoke any more");
    assert.deepEqual(hub.applications(other), before, "the other cluster keeps every Application");
    const waves = report.waves.map((wave) => wave.wave);
    assert.deepEqual(
      waves,
      [...waves].sort((a, b) => b - a),
      "highest wave first",
    );
    assert.ok(waves.length > 1, "more than one wave");
    // Every wave's labels were set before the next wave's, and each wave's Applications were gone first.
    assert.deepEqual(
      hub.events,
      report.waves.map((wave) => `label ${wave.labels.join(",")}`),
    );
    assert.deepEqual(report.waves.flatMap((wave) => wave.applications).sort(), [
      "cluster-base-cluster-spoke",
      "coredns-autoscaler-cluster-spoke",
      "falco-cluster-spoke",
      "karpenter-cluster-spoke",
      "karpenter-nodepools-cluster-spoke",
    ]);
    assert.equal(
      hub.labels["cluster-spoke"]["argocd.argoproj.io/secret-type"],
      "cluster",
      "the Secret itself stays for Pulumi to delete",
    );
  });

  it("is idempotent: a second run finds nothing to do", async () => {
    const hub = new FakeHub(spokeB);
    await drainSpoke(hub, fakeClock(), options);
    assert.deepEqual((await drainSpoke(hub, fakeClock(), options)).waves, []);
  });

  it("times out naming what is stuck and how to resume", async () => {
    const hub = new FakeHub(spokeB);
    hub.setSecretLabels = async () => undefined; // the controller never lets go
    await assert.rejects(
      drainSpoke(hub, fakeClock(), { ...options, timeoutMs: 60_000 }),
      (error: Error) =>
        error.message.includes("did not finish within 1 min") &&
        error.message.includes("`pulumi destroy` of the spoke again"),
    );
  });

  it("refuses, changing nothing, when an Application to the spoke was not generated by an ApplicationSet", async () => {
    const hub = new FakeHub(spokeB);
    const list = hub.argo.list;
    hub.argo.list = async () => [
      ...(await list()),
      {
        kind: "Application",
        name: "hand-made",
        namespace: "argocd",
        finalizers: [],
        syncWave: 0,
        deleting: false,
        autoSync: true,
        destinationServer: server,
      },
    ];
    await assert.rejects(
      drainSpoke(hub, fakeClock(), options),
      /hand-made deploy\(s\) to it but no ApplicationSet/,
    );
    assert.deepEqual(hub.events, []);
  });
});

describe("fleet: the drain's kubectl client", () => {
  it("reads destinations and cluster selectors, and switches labels off by re-applying the whole Secret server-side (no read)", async () => {
    const calls: string[][] = [];
    const applied: Tree[] = [];
    const workDir = mkdtempSync(join(tmpdir(), "fleet-drain-"));
    const manifest = {
      apiVersion: "v1",
      kind: "Secret",
      metadata: {
        name: "cluster-spoke",
        namespace: "argocd",
        labels: { enable_falco: "true", enable_kubecost: "true", enable_karpenter: "true" },
        annotations: { aws_cluster_name: "spoke" },
      },
      data: { name: "c3Bva2U=" },
    };
    const items = {
      ApplicationSet: [
        {
          metadata: { name: "falco", namespace: "argocd" },
          spec: { generators: [{ clusters: { selector: { matchLabels: { enable_falco: "true" } } } }] },
        },
      ],
      Application: [
        {
          metadata: {
            name: "falco-spoke",
            namespace: "argocd",
            annotations: { "argocd.argoproj.io/sync-wave": "2" },
            ownerReferences: [{ kind: "ApplicationSet", name: "falco" }],
          },
          spec: { destination: { server } },
        },
      ],
    };
    const client = kubectlSpokeDrainClient(
      async (args) => {
        calls.push([...args]);
        if (args[0] === "apply")
          applied.push(JSON.parse(readFileSync(args.at(-1) as string, "utf8")) as Tree);
        if (args[0] === "get")
          return JSON.stringify({
            items: args[1] === "applicationsets.argoproj.io" ? items.ApplicationSet : items.Application,
          });
        return "";
      },
      manifest,
      workDir,
    );
    const objects = await client.argo.list("argocd");
    assert.deepEqual(
      objects.map((object) => [
        object.kind,
        object.name,
        object.destinationServer,
        object.clusterSelector,
        object.syncWave,
      ]),
      [
        ["ApplicationSet", "falco", undefined, { enable_falco: "true" }, 0],
        ["Application", "falco-spoke", server, undefined, 2],
      ],
    );
    await client.setSecretLabels("argocd", "cluster-spoke", { enable_falco: "false" });
    await client.setSecretLabels("argocd", "cluster-spoke", { enable_kubecost: "false" });
    const apply = [
      "apply",
      "--server-side",
      "--field-manager",
      registrationFieldManager,
      "--force-conflicts",
      "--filename",
      join(workDir, "registration.json"),
    ];
    assert.deepEqual(calls.slice(-2), [apply, apply]);
    assert.ok(!calls.some((call) => call[0] === "get" && call[1] === "secret"), "never reads a Secret");
    // Each apply is the whole manifest (a partial apply would drop fields) with every label switched off so far.
    assert.deepEqual(applied[0], {
      ...manifest,
      metadata: { ...manifest.metadata, labels: { ...manifest.metadata.labels, enable_falco: "false" } },
    });
    assert.deepEqual((applied[1].metadata as Tree).labels, {
      enable_falco: "false",
      enable_kubecost: "false",
      enable_karpenter: "true",
    });
    assert.deepEqual(applied[1].data, manifest.data);
    await assert.rejects(
      client.setSecretLabels("argocd", "argocd-secret", { x: "y" }),
      /may only relabel its own Secret argocd\/cluster-spoke/,
    );
    rmSync(workDir, { recursive: true, force: true });
  });
});
