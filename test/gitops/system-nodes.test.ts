import { strict as assert } from "node:assert";
import * as path from "node:path";
import { systemNodeTaint } from "../../infra/cluster/contract";
import { bottlerocketBlockDevices } from "../../infra/cluster/system-nodes";
import { renderHelmRelease } from "../../infra/gitops/addon-files";
import { addonsDir, chartPins, kustomizeBuild, Tree } from "../addons/support";
import { synthesizedStack } from "../support/stacks";
import { upstreamFact } from "../upstream";
import { generate, paramsOf } from "./generate";

/**
 * The system nodes (karpenter mode's node group, Auto Mode's `system` pool) carry CriticalAddonsOnly. Exactly the
 * pods that must run before or without Karpenter's nodes tolerate it; the rest would crowd the nodes that run
 * Karpenter. Effective tolerations = our values over the chart defaults vendored per chart version.
 */

interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
}

/** Kubernetes' toleration match for one taint. */
export function tolerates(tolerations: readonly Toleration[], taint: typeof systemNodeTaint): boolean {
  return tolerations.some(
    (toleration) =>
      (toleration.effect === undefined || toleration.effect === "" || toleration.effect === taint.effect) &&
      (toleration.operator === "Exists"
        ? toleration.key === undefined || toleration.key === "" || toleration.key === taint.key
        : toleration.key === taint.key && (toleration.value ?? "") === taint.value),
  );
}

/**
 * Per chart: which workloads' tolerations to check (value paths; a component without its own falls back to the
 * second path, as the argo-cd chart does with global.tolerations), and whether they must run on system nodes.
 */
const workloads: Record<string, { paths: [string, string?][]; onSystemNodes: boolean }> = {
  // Installs Karpenter in karpenter mode: nothing else could host it.
  "argo-cd": {
    paths: [
      "controller",
      "server",
      "repoServer",
      "applicationSet",
      "redis",
      "redisSecretInit",
      "notifications",
    ].map((component) => [`${component}.tolerations`, "global.tolerations"]),
    onSystemNodes: true,
  },
  // Karpenter cannot run on the nodes it launches.
  karpenter: { paths: [["tolerations"]], onSystemNodes: true },
  // The agent runs on every node; the operator hands out pod addresses before any other pod can start.
  cilium: { paths: [["tolerations"], ["operator.tolerations"]], onSystemNodes: true },
  // A DaemonSet that watches every node, system nodes included.
  falco: { paths: [["tolerations"]], onSystemNodes: true },
  // Ordinary workloads: on Karpenter's nodes.
  "cluster-proportional-autoscaler": { paths: [["tolerations"]], onSystemNodes: false },
  "cost-analyzer": { paths: [["tolerations"]], onSystemNodes: false },
  // An aggregated API (metrics.k8s.io): discovery stalls while it has no pod, so it runs where nodes always are.
  "metrics-server": { paths: [["tolerations"]], onSystemNodes: true },
  // Its Service webhook (failurePolicy Fail) admits every new Service, Karpenter's included: it must run first.
  "aws-load-balancer-controller": { paths: [["tolerations"]], onSystemNodes: true },
  "external-dns": { paths: [["tolerations"]], onSystemNodes: false },
  "external-secrets": {
    paths: ["tolerations", "webhook.tolerations", "certController.tolerations"].map((own) => [
      own,
      "global.tolerations",
    ]),
    onSystemNodes: false,
  },
};

const valueAt = (values: Tree, dotted: string): unknown =>
  dotted.split(".").reduce<unknown>((node, key) => (node as Tree | undefined)?.[key], values);

describe("system nodes: the CriticalAddonsOnly taint and who tolerates it", () => {
  for (const stack of ["dev", "prod", "staging"]) {
    it(`${stack}: exactly the pods that must run on system nodes tolerate the taint`, async () => {
      const result = await synthesizedStack(stack);
      const params = paramsOf(result);
      const folders = new Map(chartPins().map((pin) => [pin.applicationSet, pin.folder]));
      const checked: string[] = [];
      for (const [name, application] of generate(result)) {
        const spec = application.spec as Tree;
        const chart = ((spec.sources as Tree[] | undefined) ?? []).find(
          (source) => typeof source.chart === "string",
        );
        if (!chart) continue;
        const chartName = String(chart.chart);
        const rule = workloads[chartName];
        assert.ok(rule, `${chartName}: say whether its pods must run on the system nodes`);
        const facts = upstreamFact<{ tolerationDefaults: Record<string, Toleration[]> }>(
          `${chartName}-${String(chart.targetRevision)}.values-keys.json`,
        ).facts;
        const values = renderHelmRelease(addonsDir, folders.get(name)!, name, params).values;
        const effective = (key: string) =>
          (valueAt(values, key) as Toleration[] | undefined) ?? facts.tolerationDefaults[key] ?? [];
        for (const [own, fallback] of rule.paths) {
          const mine = effective(own);
          const tolerations = mine.length > 0 || fallback === undefined ? mine : effective(fallback);
          assert.equal(
            tolerates(tolerations, systemNodeTaint),
            rule.onSystemNodes,
            `${stack}: ${chartName} ${own} ${rule.onSystemNodes ? "must" : "must not"} tolerate ${systemNodeTaint.key}`,
          );
          checked.push(`${chartName}:${own}`);
        }
        // Argo CD's HA Redis is a subchart with its own tolerations (it does not read global.tolerations).
        if (chartName === "argo-cd" && valueAt(values, "redis-ha.enabled") === true)
          assert.ok(
            tolerates(effective("redis-ha.tolerations"), systemNodeTaint),
            `${stack}: redis-ha must tolerate ${systemNodeTaint.key}`,
          );
      }
      assert.ok(checked.length > 0);
    });
  }

  it("matches tolerations as Kubernetes does", () => {
    assert.ok(tolerates([{ operator: "Exists" }], systemNodeTaint));
    assert.ok(tolerates([{ key: "CriticalAddonsOnly", operator: "Exists" }], systemNodeTaint));
    assert.ok(
      !tolerates([{ key: "CriticalAddonsOnly", operator: "Exists", effect: "NoExecute" }], systemNodeTaint),
    );
    assert.ok(!tolerates([{ key: "node-role.kubernetes.io/master", operator: "Exists" }], systemNodeTaint));
  });

  it("Karpenter's Bottlerocket nodes list both volumes (OS and data), encrypted gp3, as the system nodes do", () => {
    const [nodeClass] = kustomizeBuild(path.join(addonsDir, "karpenter/nodepools/karpenter/base")).filter(
      (object) => object.kind === "EC2NodeClass",
    );
    const devices = (nodeClass.spec as Tree).blockDeviceMappings as { deviceName: string; ebs: Tree }[];
    assert.deepEqual(
      devices.map((device) => device.deviceName).sort(),
      bottlerocketBlockDevices.map((device) => device.deviceName).sort(),
    );
    for (const device of devices) {
      assert.equal(device.ebs.encrypted, true, device.deviceName);
      assert.equal(device.ebs.volumeType, "gp3", device.deviceName);
    }
  });
});
