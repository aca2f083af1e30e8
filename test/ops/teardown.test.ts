import { strict as assert } from "node:assert";
import { CreateVolumeCommand, EC2Client } from "@aws-sdk/client-ec2";
import {
  ArgoClient,
  ArgoObject,
  cascadeFinalizer,
  DeletionProtectedError,
  drain,
  DrainOptions,
  KubectlArgoClient,
  runTeardown,
  TeardownInventory,
  TeardownTimeoutError,
} from "../../ops/teardown";
import { parseInvocation } from "../../ops/teardown/cli";
import { Leftovers, ObservedCluster, readStackConfig, SdkInventory } from "../../ops/verify";
import { FakeClock, startMoto, useFakeCredentials } from "./moto";
import { requireTool } from "../support/tools";

const none: Leftovers = { loadBalancers: [], volumes: [], instances: [], interfaces: [] };

type Stored = { -readonly [K in keyof ArgoObject]: ArgoObject[K] } & { polls: number };

/**
 * A fake Argo CD. Deleting an object marks it deleting, and Argo CD's cascade takes `cascadePolls` list calls to
 * finish (never for `stuck` ones). Like the real controllers: the garbage collector deletes the Applications of a
 * deleted ApplicationSet, an ApplicationSet re-generates its missing Applications, and a parent Application with
 * automated sync re-creates its missing `children`. Every write is logged, so tests can check the order.
 */
class FakeArgo implements ArgoClient {
  readonly calls: string[] = [];
  readonly violations: string[] = [];
  readonly failures = new Map<string, number>();
  private readonly objects = new Map<string, Stored>();
  private readonly templates = new Map<string, Stored>();

  constructor(
    objects: Partial<ArgoObject>[],
    private readonly cascadePolls = 1,
    private readonly stuck: string[] = [],
    private readonly children: Record<string, string[]> = {},
  ) {
    for (const object of objects) this.add(object);
  }

  add(object: Partial<ArgoObject>): void {
    const full: Stored = {
      kind: "Application",
      namespace: "argocd",
      finalizers: [],
      syncWave: 0,
      deleting: false,
      autoSync: false,
      polls: 0,
      name: "",
      ...object,
    };
    this.objects.set(full.name, full);
    this.templates.set(full.name, { ...full });
  }

  names(): string[] {
    return [...this.objects.keys()].sort();
  }

  async list(namespace: string): Promise<ArgoObject[]> {
    this.calls.push(`list ${namespace}`);
    for (const [name, object] of this.objects) {
      if (!object.deleting || this.stuck.includes(name)) continue;
      if (++object.polls >= this.cascadePolls) this.objects.delete(name);
    }
    for (const object of this.objects.values()) {
      if (object.owner && !this.objects.get(object.owner) && !object.deleting) {
        if (!object.finalizers.includes(cascadeFinalizer))
          this.violations.push(`${object.name} collected without the finalizer`);
        object.deleting = true;
      }
    }
    const regenerate = (name: string, by: string) => {
      if (this.objects.has(name)) return;
      this.calls.push(`${by} re-creates ${name}`);
      this.objects.set(name, { ...(this.templates.get(name) as Stored), polls: 0, deleting: false });
    };
    for (const parent of [...this.objects.values()]) {
      if (parent.deleting) continue;
      if (parent.kind === "ApplicationSet") {
        for (const template of this.templates.values())
          if (template.owner === parent.name) regenerate(template.name, parent.name);
      } else if (parent.autoSync) {
        for (const child of this.children[parent.name] ?? []) regenerate(child, parent.name);
      }
    }
    return [...this.objects.values()].map(({ polls: _polls, ...object }) => ({ ...object }));
  }

  async setFinalizers(object: ArgoObject, finalizers: readonly string[]): Promise<void> {
    this.maybeFail(`finalize ${object.name}`);
    this.calls.push(`finalize ${object.name}`);
    const stored = this.objects.get(object.name);
    if (stored) stored.finalizers = [...finalizers];
  }

  async stopAutoSync(object: ArgoObject): Promise<void> {
    this.calls.push(`stop auto-sync ${object.name}`);
    const stored = this.objects.get(object.name);
    if (stored) stored.autoSync = false;
  }

  async delete(object: ArgoObject): Promise<void> {
    this.maybeFail(`delete ${object.name}`);
    this.calls.push(`delete ${object.kind} ${object.name}`);
    const stored = this.objects.get(object.name);
    if (!stored) return;
    if (object.kind === "Application" && !stored.finalizers.includes(cascadeFinalizer)) {
      this.violations.push(`${object.name} deleted without the finalizer`);
    }
    stored.deleting = true;
  }

  private maybeFail(call: string): void {
    const left = this.failures.get(call) ?? 0;
    if (left > 0) {
      this.failures.set(call, left - 1);
      throw new Error(`etcdserver: request timed out (${call})`);
    }
  }
}

/** AWS leftovers that disappear after a number of checks (never when `forever`). */
function fakeLeftovers(sequence: Leftovers[]) {
  let checks = 0;
  return {
    checks: () => checks,
    find: async () => sequence[Math.min(checks++, sequence.length - 1)],
  };
}

const options = (overrides: Partial<DrainOptions> = {}): DrainOptions => ({
  clusterName: "gitops-dev",
  argocdNamespace: "argocd",
  keep: [],
  timeoutMs: 10 * 60_000,
  pollMs: 10_000,
  attempts: 3,
  log: () => undefined,
  ...overrides,
});

const lb = {
  arn: "arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/app/k8s-web/1",
  name: "k8s-web",
  type: "application",
};

describe("ops/teardown drain (fake Kubernetes and AWS)", () => {
  it("stops the app of apps, finalizes every Application, deletes from the highest sync-wave down, then waits for AWS", async () => {
    // The platform's shape: a root Application syncs ApplicationSets (Karpenter controller wave 1, its NodePools
    // wave 2, Falco wave 3); each generates one Application; Kubecost is a stand-alone Application at wave 5.
    const argo = new FakeArgo(
      [
        { name: "root", autoSync: true },
        { name: "karpenter", kind: "ApplicationSet", syncWave: 1 },
        { name: "karpenter-dev", owner: "karpenter", syncWave: 1, autoSync: true },
        { name: "nodepools", kind: "ApplicationSet", syncWave: 2 },
        {
          name: "nodepools-dev",
          owner: "nodepools",
          syncWave: 2,
          finalizers: [cascadeFinalizer],
          autoSync: true,
        },
        { name: "falco", kind: "ApplicationSet", syncWave: 3 },
        { name: "falco-dev", owner: "falco", syncWave: 3, autoSync: true },
        { name: "kubecost", syncWave: 5 },
      ],
      2,
      [],
      { root: ["karpenter", "nodepools", "falco"] },
    );
    const aws = fakeLeftovers([{ ...none, loadBalancers: [lb] }, { ...none, loadBalancers: [lb] }, none]);
    const clock = new FakeClock();
    const report = await drain({ argo, leftovers: aws, clock }, options());

    assert.deepEqual(
      argo.calls.filter((call) => !call.startsWith("list")),
      [
        "stop auto-sync root",
        "finalize root",
        "finalize karpenter-dev",
        "finalize falco-dev",
        "finalize kubecost",
        "delete Application kubecost",
        "delete ApplicationSet falco",
        "delete ApplicationSet nodepools",
        "delete ApplicationSet karpenter",
        "delete Application root",
      ],
    );
    assert.deepEqual(argo.violations, []);
    // Each wave is gone before the next is deleted: the NodePools' Application is gone before Karpenter's set goes.
    const nodepoolsDeleted = argo.calls.indexOf("delete ApplicationSet nodepools");
    const karpenterDeleted = argo.calls.indexOf("delete ApplicationSet karpenter");
    assert.ok(
      argo.calls.slice(nodepoolsDeleted, karpenterDeleted).filter((call) => call.startsWith("list")).length >=
        3,
    );
    assert.deepEqual(argo.names(), []);
    assert.equal(aws.checks(), 3, "polled AWS until the load balancer was gone");
    assert.deepEqual(report.deletedApplicationSets, ["karpenter", "nodepools", "falco"]);
    assert.equal(report.deletedApplications.length, 5);
    assert.equal(report.waitedMs, clock.time);
  });

  it("leaves the Applications it is told to keep", async () => {
    const argo = new FakeArgo([{ name: "argo-cd" }, { name: "falco" }]);
    await drain(
      { argo, leftovers: fakeLeftovers([none]), clock: new FakeClock() },
      options({ keep: ["argo-cd"] }),
    );
    assert.deepEqual(argo.names(), ["argo-cd"]);
    assert.ok(!argo.calls.some((call) => call.includes("argo-cd")));
  });

  it("deletes Applications that appear while draining (regenerated by a parent), stopping their auto-sync first", async () => {
    // The newcomer is itself an app of apps: with automated sync on, it would re-create its own child.
    const argo = new FakeArgo([{ name: "root" }], 1, [], { "late-child": ["late-grandchild"] });
    const listed = argo.list.bind(argo);
    let injected = false;
    argo.list = async (namespace) => {
      if (!injected && argo.calls.includes("delete Application root")) {
        injected = true;
        argo.add({ name: "late-child", autoSync: true });
        argo.add({ name: "late-grandchild" });
      }
      return listed(namespace);
    };
    await drain({ argo, leftovers: fakeLeftovers([none]), clock: new FakeClock() }, options());
    assert.ok(injected, "the late Applications were injected");
    const stopped = argo.calls.indexOf("stop auto-sync late-child");
    const deleted = argo.calls.indexOf("delete Application late-child");
    assert.ok(stopped >= 0, `auto-sync of late-child was never stopped: ${argo.calls.join(", ")}`);
    assert.ok(
      deleted > stopped,
      `late-child deleted before its auto-sync was stopped: ${argo.calls.join(", ")}`,
    );
    assert.ok(argo.calls.indexOf("finalize late-child") < deleted);
    assert.ok(argo.calls.includes("delete Application late-grandchild"));
    assert.ok(
      !argo.calls.includes("stop auto-sync late-grandchild"),
      "only auto-syncing Applications are patched",
    );
    assert.deepEqual(argo.violations, []);
    assert.deepEqual(argo.names(), []);
  });

  it("retries transient Kubernetes errors and gives up with the call named after the last attempt", async () => {
    const argo = new FakeArgo([{ name: "falco" }]);
    argo.failures.set("finalize falco", 2);
    await drain({ argo, leftovers: fakeLeftovers([none]), clock: new FakeClock() }, options({ attempts: 3 }));
    assert.deepEqual(argo.names(), []);

    const failing = new FakeArgo([{ name: "falco" }]);
    failing.failures.set("finalize falco", 3);
    await assert.rejects(
      drain(
        { argo: failing, leftovers: fakeLeftovers([none]), clock: new FakeClock() },
        options({ attempts: 3 }),
      ),
      /add resources-finalizer\.argocd\.argoproj\.io to Application falco failed after 3 attempts: etcdserver: request timed out/,
    );
  });

  it("stops at the time bound naming every AWS resource still there", async () => {
    const stillThere: Leftovers = {
      loadBalancers: [lb],
      volumes: [{ id: "vol-0abc", state: "available", sizeGiB: 20 }],
      instances: [{ id: "i-0def", state: "running", nodePool: "workloads" }],
      interfaces: [],
    };
    const clock = new FakeClock();
    const error = await drain(
      { argo: new FakeArgo([]), leftovers: fakeLeftovers([stillThere]), clock },
      options({ timeoutMs: 5 * 60_000 }),
    ).then(
      () => assert.fail("should time out"),
      (caught: unknown) => caught,
    );
    assert.ok(error instanceof TeardownTimeoutError);
    assert.match(error.message, /did not finish within 5 min/);
    assert.match(error.message, /load balancers: k8s-web \(application, arn:aws:elasticloadbalancing/);
    assert.match(error.message, /EBS volumes: vol-0abc \(available, 20 GiB\)/);
    assert.match(error.message, /nodes: i-0def \(node pool workloads, running\)/);
    assert.match(error.message, /run `pulumi destroy` again/);
    assert.ok(clock.time <= 5 * 60_000, `waited ${clock.time} ms, past the bound`);
  });

  it("stops at the time bound naming an Application stuck deleting, with the way out", async () => {
    const argo = new FakeArgo([{ name: "kubecost", syncWave: 3 }, { name: "falco" }], 1, ["kubecost"]);
    const drained = drain(
      { argo, leftovers: fakeLeftovers([none]), clock: new FakeClock() },
      options({ timeoutMs: 60_000 }),
    );
    await assert.rejects(drained, (error: Error) => {
      assert.ok(error instanceof TeardownTimeoutError);
      assert.match(error.message, /Argo CD objects in argocd: Application kubecost/);
      assert.match(error.message, /remove the finalizer resources-finalizer\.argocd\.argoproj\.io/);
      return true;
    });
    assert.ok(
      !argo.calls.includes("delete Application falco"),
      "a lower wave is not deleted while a higher one is stuck",
    );
  });

  it("is idempotent: a second run finds nothing to delete and returns at once", async () => {
    const argo = new FakeArgo([{ name: "falco" }, { name: "addons", kind: "ApplicationSet" }]);
    await drain({ argo, leftovers: fakeLeftovers([none]), clock: new FakeClock() }, options());
    const before = argo.calls.length;
    const clock = new FakeClock();
    const report = await drain({ argo, leftovers: fakeLeftovers([none]), clock }, options());
    assert.deepEqual(
      argo.calls.slice(before).filter((call) => !call.startsWith("list")),
      [],
    );
    assert.equal(clock.time, 0);
    assert.deepEqual(report.deletedApplications, []);
  });
});

describe("ops/teardown runTeardown", () => {
  const cluster: ObservedCluster = {
    name: "gitops-prod",
    status: "ACTIVE",
    version: "1.35",
    endpointPrivateAccess: true,
    endpointPublicAccess: false,
    publicAccessCidrs: [],
    enabledLogTypes: [],
    encryption: [],
    vpcId: "vpc-1",
    subnetIds: [],
  };
  const inventory = (found: ObservedCluster | undefined, leftovers: Leftovers = none): TeardownInventory => ({
    describeCluster: async () => found,
    describeSubnets: async () => [],
    findLeftovers: async () => leftovers,
  });
  const target = {
    clusterName: "gitops-prod",
    stack: "prod",
    deletionProtection: false,
    retainedNodePools: ["system", "general-purpose"],
  };

  it("refuses a deletion-protected cluster before touching anything, and says how to lift the protection", async () => {
    let argoAsked = false;
    const argo = async () => {
      argoAsked = true;
      return new FakeArgo([{ name: "falco" }]);
    };
    for (const [observed, configured] of [
      [{ ...cluster, deletionProtection: true }, false],
      [cluster, true],
    ] as const) {
      await assert.rejects(
        runTeardown(
          { ...target, deletionProtection: configured },
          { inventory: inventory(observed), argo, clock: new FakeClock() },
          options(),
        ),
        (error: Error) => {
          assert.ok(error instanceof DeletionProtectedError);
          assert.match(error.message, /nothing was drained or deleted/);
          assert.match(
            error.message,
            /pulumi config set --path cluster\.deletionProtection false --stack prod\n {2}pulumi up --stack prod.*\n {2}pulumi destroy --stack prod/,
          );
          return true;
        },
      );
    }
    assert.equal(argoAsked, false);
  });

  it("drains a live cluster", async () => {
    const fake = new FakeArgo([{ name: "falco" }]);
    const report = await runTeardown(
      target,
      { inventory: inventory(cluster), argo: async () => fake, clock: new FakeClock() },
      options(),
    );
    assert.deepEqual(report.deletedApplications, ["falco"]);
  });

  it("on a cluster already gone, succeeds when nothing is left and fails at once naming what is", async () => {
    const never = async (): Promise<ArgoClient> => assert.fail("no Kubernetes API to call");
    const clock = new FakeClock();
    const report = await runTeardown(
      target,
      { inventory: inventory(undefined), argo: never, clock },
      options(),
    );
    assert.deepEqual(report, { deletedApplications: [], deletedApplicationSets: [], waitedMs: 0 });
    await assert.rejects(
      runTeardown(
        target,
        {
          inventory: inventory(undefined, {
            ...none,
            volumes: [{ id: "vol-9", state: "available", sizeGiB: 8 }],
          }),
          argo: never,
          clock,
        },
        options(),
      ),
      /gitops-prod is gone but AWS resources it created are still there[\s\S]*EBS volumes: vol-9/,
    );
    assert.equal(clock.time, 0, "no waiting when nothing can remove them");
  });

  it("uses the live check's AWS queries for what is left (moto_server)", async function () {
    this.timeout(60_000);
    requireTool(this, "moto_server");
    const restore = useFakeCredentials();
    const moto = await startMoto();
    try {
      const ec2 = new EC2Client({ region: "us-east-1", endpoint: moto.endpoint });
      await ec2.send(
        new CreateVolumeCommand({
          AvailabilityZone: "us-east-1a",
          Size: 30,
          TagSpecifications: [
            {
              ResourceType: "volume",
              Tags: [
                { Key: "kubernetes.io/cluster/gitops-gone", Value: "owned" },
                // A PersistentVolume's, not a node's root volume.
                { Key: "kubernetes.io/created-for/pvc/name", Value: "data" },
              ],
            },
          ],
        }),
      );
      const aws = new SdkInventory({ region: "us-east-1", endpoint: moto.endpoint });
      await assert.rejects(
        runTeardown(
          { ...target, clusterName: "gitops-gone" },
          { inventory: aws, argo: async () => assert.fail(), clock: new FakeClock() },
          options(),
        ),
        /EBS volumes: vol-[0-9a-f]+ \(available, 30 GiB\)/,
      );
    } finally {
      await moto.stop();
      restore();
    }
  });
});

describe("ops/teardown kubectl client and CLI arguments", () => {
  it("lists, finalizes and deletes Argo CD objects with kubectl, treating missing CRDs as nothing to drain", async () => {
    const calls: string[][] = [];
    const client = new KubectlArgoClient(async (args) => {
      calls.push([...args]);
      if (args[1] === "applicationsets.argoproj.io")
        throw new Error(
          'kubectl get applicationsets.argoproj.io: error: the server doesn\'t have a resource type "applicationsets"',
        );
      return JSON.stringify({
        items: [
          {
            metadata: {
              name: "falco",
              namespace: "argocd",
              annotations: { "argocd.argoproj.io/sync-wave": "4" },
              deletionTimestamp: "2026-11-25T10:00:00Z",
              ownerReferences: [{ kind: "ApplicationSet", name: "addons" }],
            },
            spec: { syncPolicy: { automated: { prune: true, selfHeal: true } } },
          },
        ],
      });
    });
    const [falco] = await client.list("argocd");
    assert.deepEqual(falco, {
      kind: "Application",
      name: "falco",
      namespace: "argocd",
      owner: "addons",
      finalizers: [],
      syncWave: 4,
      deleting: true,
      autoSync: true,
    });
    await client.setFinalizers(falco, [cascadeFinalizer]);
    await client.stopAutoSync(falco);
    await client.delete(falco);
    assert.deepEqual(calls.slice(2), [
      [
        "patch",
        "applications.argoproj.io",
        "falco",
        "--namespace",
        "argocd",
        "--type",
        "merge",
        "--patch",
        `{"metadata":{"finalizers":["${cascadeFinalizer}"]}}`,
      ],
      [
        "patch",
        "applications.argoproj.io",
        "falco",
        "--namespace",
        "argocd",
        "--type",
        "merge",
        "--patch",
        '{"spec":{"syncPolicy":{"automated":null}}}',
      ],
      [
        "delete",
        "applications.argoproj.io",
        "falco",
        "--namespace",
        "argocd",
        "--ignore-not-found",
        "--wait=false",
      ],
    ]);
    const broken = new KubectlArgoClient(async () => {
      throw new Error("kubectl get: dial tcp 10.0.1.5:443: i/o timeout");
    });
    await assert.rejects(broken.list("argocd"), /i\/o timeout/);
  });

  it("reads the OrderedTeardown environment", () => {
    const invocation = parseInvocation(["--from-env"], {
      TEARDOWN_CLUSTER_NAME: "gitops-dev",
      TEARDOWN_REGION: "eu-west-1",
      TEARDOWN_VPC_ID: "vpc-1",
      TEARDOWN_CIDR_BLOCK: "10.40.0.0/16",
      TEARDOWN_CLUSTER_SECURITY_GROUP_ID: "sg-0123",
      TEARDOWN_KUBECONFIG: "apiVersion: v1",
      TEARDOWN_STACK: "dev",
      TEARDOWN_DELETION_PROTECTION: "false",
      TEARDOWN_RETAINED_NODE_POOLS: "system,general-purpose",
      TEARDOWN_TIMEOUT_MINUTES: "15",
    });
    assert.deepEqual(invocation, {
      target: {
        clusterName: "gitops-dev",
        stack: "dev",
        vpcId: "vpc-1",
        cidrBlock: "10.40.0.0/16",
        clusterSecurityGroupId: "sg-0123",
        deletionProtection: false,
        retainedNodePools: ["system", "general-purpose"],
      },
      region: "eu-west-1",
      kubeconfig: "apiVersion: v1",
      argocdNamespace: "argocd",
      keep: [],
      timeoutMs: 15 * 60_000,
    });
    // By hand (npm run teardown -- <stack>), the drain keeps the same Applications the program's drain keeps.
    const manual = parseInvocation(["staging"], {});
    assert.deepEqual(manual.keep, [
      "argo-cd",
      "argo-cd-platform-staging",
      "cilium",
      "cilium-platform-staging",
      "aws-load-balancer-controller",
      "aws-load-balancer-controller-platform-staging",
    ]);
    assert.deepEqual(manual.target.retainedNodePools, []);
    // By hand too, only the cluster's own block of the shared VPC counts for its ENIs.
    assert.equal(manual.target.cidrBlock, readStackConfig("staging").network.vpcCidr);
    assert.deepEqual(parseInvocation(["dev"], {}).target.retainedNodePools, ["system", "general-purpose"]);
    assert.throws(
      () => parseInvocation(["--from-env"], { TEARDOWN_REGION: "eu-west-1" }),
      /TEARDOWN_CLUSTER_NAME is not set/,
    );
    assert.throws(() => parseInvocation([], {}), /usage: npm run teardown -- <stack>/);
  });
});
