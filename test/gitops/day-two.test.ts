import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { renderHelmRelease } from "../../infra/gitops/addon-files";
import { cascadeFinalizer } from "../../infra/gitops/argocd";
import { generatedFinalizers } from "../../infra/gitops/template";
import type { SynthResult } from "../../synth";
import {
  addonsDir,
  applicationSets,
  chartPins,
  kustomizeBuild,
  parseDocuments,
  Tree,
} from "../addons/support";
import { synthesizedStack } from "../support/stacks";
import { upstreamFact } from "../upstream";
import { configOf, generate, paramsOf } from "./generate";

/**
 * Day two as Argo CD really behaves (v3.4): what deleting a generated Application does, how a fresh cluster
 * converges when ApplicationSets sync in any order, and whether charts that are not idempotent under
 * `helm template` stay in sync. Helm is not available offline: the non-idempotent outputs are modelled from the
 * charts' templates as vendored in test/fixtures/upstream/<chart>-<version>.non-idempotent.json.
 */

/** What deleting (or switching off) each add-on's Application does; docs/gitops.md says the same. */
const onDeletion: Record<string, "keeps" | "deletes"> = {
  // Argo CD would delete itself and its CRDs (every Application with them); Cilium would cut pods off the network.
  "argo-cd": "keeps",
  cilium: "keeps",
  // The controller and its CRDs stay while NodeClaims may exist; the node pools are deleted and drained by it.
  karpenter: "keeps",
  "karpenter-nodepools": "deletes",
  "cluster-base": "deletes",
  "coredns-autoscaler": "deletes",
  falco: "deletes",
  kubecost: "deletes",
  "metrics-server": "deletes",
  "external-dns": "deletes",
  // Its CRDs go with it otherwise, and with them every ExternalSecret and the Secrets they own.
  "external-secrets": "keeps",
  "external-secrets-stores": "deletes",
  // It must delete the load balancers of the Services and Ingresses being drained; its CRDs stay.
  "aws-load-balancer-controller": "keeps",
};

const chartSource = (application: Tree) => {
  const spec = application.spec as Tree;
  return ((spec.sources as Tree[] | undefined) ?? [spec.source as Tree]).find(
    (source) => typeof source.chart === "string",
  );
};

interface Condition {
  path: string;
  equals?: unknown;
}
interface NonIdempotent {
  defaults: Record<string, unknown>;
  outputs: { group?: string; kind: string; name: string; fields: string[]; when: Condition[][] }[];
}

type ChartCrds = { chartCrds: { kinds: string[] } };
/** CRDs each chart installs, as vendored at its pin. */
const chartCrds: Record<string, string[]> = {
  karpenter: upstreamFact<ChartCrds>("karpenter-1.14.1.crd-fields.json").facts.chartCrds.kinds,
  "external-secrets": upstreamFact<ChartCrds>("external-secrets-2.9.0.clustersecretstore-fields.json").facts
    .chartCrds.kinds,
  "aws-load-balancer-controller": upstreamFact<ChartCrds>("aws-load-balancer-controller-3.5.0.crds.json")
    .facts.chartCrds.kinds,
};

/** API groups served by Kubernetes itself: their kinds need no CRD. */
const builtInGroups = new Set(["", "apps", "batch", "policy", "storage.k8s.io", "rbac.authorization.k8s.io"]);
/** CRDs EKS Auto Mode installs itself (its managed Karpenter and NodeClass). */
const autoModeKinds = ["karpenter.sh/NodePool", "karpenter.sh/NodeClaim", "eks.amazonaws.com/NodeClass"];

const kindOf = (object: Tree) => {
  const apiVersion = String(object.apiVersion);
  const group = apiVersion.includes("/") ? apiVersion.split("/")[0] : "";
  return `${group}/${String(object.kind)}`;
};

/** The custom resource kinds an Application deploys (git sources built with the kustomize subset). */
function usedCustomKinds(application: Tree, basepath: string): string[] {
  const spec = application.spec as Tree;
  const sources = (spec.sources as Tree[] | undefined) ?? [spec.source as Tree];
  return sources
    .filter((source) => typeof source.path === "string")
    .flatMap((source) => {
      const dir = path.join(addonsDir, String(source.path).slice(basepath.length + 1));
      // A folder with a kustomization is built; any other is an Argo CD directory source (its YAML files).
      if (fs.existsSync(path.join(dir, "kustomization.yaml")))
        return kustomizeBuild(
          dir,
          ((source.kustomize as Tree | undefined)?.patches as Tree[] | undefined) ?? [],
        );
      return fs
        .readdirSync(dir)
        .filter((file) => /\.ya?ml$/.test(file))
        .flatMap((file) => parseDocuments(path.join(dir, file)) as Tree[]);
    })
    .map(kindOf)
    .filter((kind) => !builtInGroups.has(kind.split("/")[0]));
}

/** The CRDs an Application installs (charts whose CRDs are vendored). */
function ownedKinds(application: Tree): string[] {
  return chartCrds[String(chartSource(application)?.chart)] ?? [];
}

/**
 * Argo CD's automated sync, one attempt per Application per round in the given order: an attempt fails while a
 * kind it deploys has no CRD yet; a failed sync is tried again only as often as `syncPolicy.retry.limit` allows
 * (without retry, not at all for the same commit). Returns the Applications that never sync.
 */
export function neverSynced(
  order: readonly string[],
  apps: ReadonlyMap<string, { uses: string[]; owns: string[]; retries: number }>,
  provided: readonly string[],
): string[] {
  const available = new Set(provided);
  const synced = new Set<string>();
  const attempts = new Map(order.map((name) => [name, 0]));
  for (let progress = true; progress;) {
    progress = false;
    for (const name of order) {
      const app = apps.get(name)!;
      if (synced.has(name) || attempts.get(name)! > app.retries) continue;
      attempts.set(name, attempts.get(name)! + 1);
      progress = true;
      if (app.uses.every((kind) => available.has(kind))) {
        synced.add(name);
        for (const kind of app.owns) available.add(kind);
      }
    }
  }
  return order.filter((name) => !synced.has(name));
}

function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, index) =>
    permutations([...items.slice(0, index), ...items.slice(index + 1)]).map((rest) => [item, ...rest]),
  );
}

/** Reads a JSON pointer's value; undefined when a step is missing. */
const valueAt = (values: Tree, dotted: string): unknown =>
  dotted.split(".").reduce<unknown>((node, key) => (node as Tree | undefined)?.[key], values);

function holds(conditions: Condition[], values: Tree, defaults: Record<string, unknown>): boolean {
  return conditions.every(({ path: key, equals }) => {
    const value = valueAt(values, key) ?? defaults[key];
    return equals === undefined ? Boolean(value) : value === equals;
  });
}

interface RenderedObject {
  id: string;
  group: string;
  kind: string;
  name: string;
  namespace: string;
  body: Tree;
}

/** One `helm template` of the chart's non-idempotent outputs: every generated field gets this render's value. */
function renderOutputs(
  facts: NonIdempotent,
  values: Tree,
  release: { name: string; namespace: string },
  render: number,
): RenderedObject[] {
  return facts.outputs
    .filter((output) => output.when.some((alternative) => holds(alternative, values, facts.defaults)))
    .map((output) => {
      const name = output.name.replace("{release}", release.name);
      const body: Tree = {};
      for (const field of output.fields) {
        const keys = field
          .split("/")
          .slice(1)
          .map((key) => key.replace(/~1/g, "/").replace(/~0/g, "~"));
        let node = body;
        for (const key of keys.slice(0, -1)) node = (node[key] ??= {}) as Tree;
        node[keys[keys.length - 1]] = `generated-by-render-${render}`;
      }
      const group = output.group ?? "";
      return {
        id: `${group}/${output.kind}/${release.namespace}/${name}`,
        group,
        kind: output.kind,
        name,
        namespace: release.namespace,
        body,
      };
    });
}

/** JSON pointers of the leaves that differ between two renders of the same object. */
function differences(a: unknown, b: unknown, pointer = ""): string[] {
  if (a !== null && b !== null && typeof a === "object" && typeof b === "object") {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].flatMap((key) =>
      differences(
        (a as Tree)[key],
        (b as Tree)[key],
        `${pointer}/${key.replace(/~/g, "~0").replace(/\//g, "~1")}`,
      ),
    );
  }
  return a === b ? [] : [pointer];
}

/** Argo CD's ignoreDifferences match (group, kind, optional name/namespace, jsonPointers by prefix). */
function ignored(application: Tree, object: RenderedObject, pointer: string): boolean {
  const rules = ((application.spec as Tree).ignoreDifferences as Tree[] | undefined) ?? [];
  return rules.some(
    (rule) =>
      String(rule.group ?? "") === object.group &&
      rule.kind === object.kind &&
      (rule.name === undefined || rule.name === object.name) &&
      (rule.namespace === undefined || rule.namespace === object.namespace) &&
      ((rule.jsonPointers as string[] | undefined) ?? []).some(
        (prefix) => pointer === prefix || pointer.startsWith(`${prefix}/`),
      ),
  );
}

describe("Argo CD day two: deletion, ordering and idempotence of the generated Applications", () => {
  it("models the ApplicationSet controller: cascade finalizer unless preserveResourcesOnDeletion", () => {
    const set = (syncPolicy?: Tree, finalizers?: string[]) =>
      ({ spec: { syncPolicy, template: { metadata: { finalizers } } } }) as Tree;
    assert.deepEqual(generatedFinalizers(set()), [cascadeFinalizer]);
    assert.deepEqual(generatedFinalizers(set({ preserveResourcesOnDeletion: false })), [cascadeFinalizer]);
    assert.deepEqual(generatedFinalizers(set({ preserveResourcesOnDeletion: true })), []);
    // A template that lists finalizers keeps exactly those.
    assert.deepEqual(generatedFinalizers(set(undefined, ["x/y"])), ["x/y"]);
  });

  it("every ApplicationSet decides deletion explicitly, and leaves the finalizer to the controller", () => {
    const sets = applicationSets();
    assert.deepEqual(sets.map(({ name }) => name).sort(), Object.keys(onDeletion).sort());
    for (const { name, set } of sets) {
      const spec = set.spec as Tree;
      assert.equal(
        typeof (spec.syncPolicy as Tree | undefined)?.preserveResourcesOnDeletion,
        "boolean",
        `${name}: syncPolicy.preserveResourcesOnDeletion is stated`,
      );
      assert.equal(
        ((spec.template as Tree).metadata as Tree).finalizers,
        undefined,
        `${name}: no template finalizers`,
      );
      const finalizers = generatedFinalizers(set);
      assert.deepEqual(finalizers, onDeletion[name] === "deletes" ? [cascadeFinalizer] : [], name);
    }
  });

  for (const stack of ["dev", "prod", "staging"]) {
    describe(stack, () => {
      let result: SynthResult;
      let applications: Map<string, Tree>;
      before(async () => {
        result = await synthesizedStack(stack);
        applications = generate(result);
      });

      it("never deletes a CRD with its Application while its objects may exist (Karpenter, Cilium, Argo CD)", () => {
        for (const [name, application] of applications) {
          const chart = chartSource(application)?.chart;
          const finalizers = ((application.metadata as Tree).finalizers as string[] | undefined) ?? [];
          if (ownedKinds(application).length > 0 || chart === "cilium" || chart === "argo-cd")
            assert.deepEqual(finalizers, [], `${stack}: ${name} owns CRDs: it must keep its resources`);
          else assert.deepEqual(finalizers, [cascadeFinalizer], `${stack}: ${name} deletes what it deployed`);
        }
      });

      it("retries a failed automatic sync with backoff on every generated Application", () => {
        for (const [name, application] of applications) {
          const syncPolicy = (application.spec as Tree).syncPolicy as Tree;
          assert.ok(syncPolicy.automated, `${name}: automated`);
          const retry = syncPolicy.retry as Tree | undefined;
          assert.ok(retry, `${stack}: ${name} has syncPolicy.retry`);
          assert.ok(Number(retry.limit) >= 5, `${name}: at least 5 retries`);
          const backoff = retry.backoff as Tree;
          assert.match(String(backoff.duration), /^\d+[sm]$/, `${name}: backoff.duration`);
          assert.ok(Number(backoff.factor) >= 2, `${name}: backoff grows`);
          assert.match(String(backoff.maxDuration), /^\d+[sm]$/, `${name}: backoff.maxDuration`);
        }
      });

      it("converges on a fresh cluster whatever order the Applications sync in (waves do not order ApplicationSets)", () => {
        const basepath = paramsOf(result).metadata.annotations.addons_repo_basepath;
        const model = new Map(
          [...applications].map(([name, application]) => {
            const retry = ((application.spec as Tree).syncPolicy as Tree).retry as Tree | undefined;
            return [
              name,
              {
                uses: usedCustomKinds(application, basepath),
                owns: ownedKinds(application),
                retries: Number(retry?.limit ?? 0),
              },
            ];
          }),
        );
        const provided = configOf(result).compute.mode === "auto" ? autoModeKinds : [];
        const everything = new Set([...provided, ...[...model.values()].flatMap((app) => app.owns)]);
        for (const [name, app] of model)
          for (const kind of app.uses)
            assert.ok(everything.has(kind), `${stack}: ${name} uses ${kind}, which nothing installs`);
        // An Application that neither deploys nor installs a custom kind syncs on its first attempt in any order, and
        // no other depends on it: permuting only the others covers every order (and keeps the count small).
        const ordered = [...model.keys()].filter((name) => {
          const app = model.get(name)!;
          return app.uses.length > 0 || app.owns.length > 0;
        });
        for (const order of permutations(ordered)) {
          assert.deepEqual(
            neverSynced(order, model, provided),
            [],
            `${stack}: sync order ${order.join(" → ")}`,
          );
        }
      });

      it("runs no Kubecost Grafana with the chart's well-known default admin password", () => {
        if (!applications.has("kubecost")) return;
        const release = renderHelmRelease(addonsDir, "kubecost", "kubecost", paramsOf(result));
        const kubecostChart = String(chartSource(applications.get("kubecost")!)!.targetRevision);
        const facts = upstreamFact<NonIdempotent>(`cost-analyzer-${kubecostChart}.non-idempotent.json`).facts;
        const value = (key: string) => valueAt(release.values, key) ?? facts.defaults[key];
        const grafana = Boolean(value("global.grafana.enabled")) && !value("federatedETL.agentOnly");
        assert.ok(
          !grafana || value("grafana.adminPassword") !== facts.defaults["grafana.adminPassword"],
          `${stack}: Grafana's admin password would be the chart default`,
        );
      });

      it("renders every chart twice without a difference outside ignoreDifferences, and syncs respect them", () => {
        const params = paramsOf(result);
        const folders = new Map(chartPins().map((pin) => [pin.applicationSet, pin.folder]));
        for (const [name, application] of applications) {
          const chart = chartSource(application);
          if (!chart) continue;
          const facts = upstreamFact<NonIdempotent>(
            `${String(chart.chart)}-${String(chart.targetRevision)}.non-idempotent.json`,
          ).facts;
          const release = renderHelmRelease(addonsDir, folders.get(name)!, name, params);
          const target = { name: release.releaseName, namespace: release.namespace };
          const first = renderOutputs(facts, release.values, target, 1);
          const second = new Map(
            renderOutputs(facts, release.values, target, 2).map((object) => [object.id, object]),
          );
          const changed = first.flatMap((object) =>
            differences(object.body, second.get(object.id)?.body).map((pointer) => ({ object, pointer })),
          );
          const unexplained = changed
            .filter(({ object, pointer }) => !ignored(application, object, pointer))
            .map(({ object, pointer }) => `${object.id} ${pointer}`);
          assert.deepEqual(unexplained, [], `${stack}: ${name} is OutOfSync after every render`);
          const syncOptions =
            (((application.spec as Tree).syncPolicy as Tree).syncOptions as string[] | undefined) ?? [];
          if (changed.length > 0)
            assert.ok(
              syncOptions.includes("RespectIgnoreDifferences=true"),
              `${stack}: ${name}: without RespectIgnoreDifferences every sync overwrites the ignored fields`,
            );
          if (name === "cilium") {
            // The model sees Cilium's certificates (the check can fail): CA, Hubble server and relay client.
            assert.deepEqual([...new Set(changed.map(({ object }) => object.name))].sort(), [
              "cilium-ca",
              "hubble-relay-client-certs",
              "hubble-server-certs",
            ]);
          }
        }
      });
    });
  }
});
