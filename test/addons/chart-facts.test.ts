import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { upstreamDir, upstreamFact } from "../upstream";
import { addonsDir, chartPin, chartPins, kustomizeBuild, listFiles, parseDocuments, Tree } from "./support";

/**
 * Every values key the project sets must exist in the chart at the version it pins: a key a chart does not know is
 * ignored by Helm without a word, so a typo or a key renamed in a new chart version silently does nothing. The keys
 * of each chart are vendored per version (test/fixtures/upstream/<chart>-<version>.values-keys.json); when Renovate
 * bumps a pin, the test fails until the facts are read again at the new version.
 */

type KeyKind = "map" | "open" | "list" | "scalar";
interface ValuesKeys {
  commented: Record<string, string>;
  open: Record<string, string>;
  keys: Record<string, KeyKind>;
}

const factFile = (chart: string, version: string) => `${chart}-${version}.values-keys.json`;

/** Leaf key paths of a values tree; lists and scalars end a path (they are set as a whole). */
export function valuePaths(tree: unknown, prefix: string[] = []): string[][] {
  if (tree === null || typeof tree !== "object" || Array.isArray(tree)) return [prefix];
  const entries = Object.entries(tree as Tree);
  if (entries.length === 0) return prefix.length > 0 ? [prefix] : [];
  return entries.flatMap(([key, value]) => valuePaths(value, [...prefix, key]));
}

/** Why a key path is not the chart's, or undefined when the chart has it. */
export function unknownKey(facts: ValuesKeys, segments: readonly string[]): string | undefined {
  // Keys documented only as comments (the chart's templates read them) count as the chart's.
  if (segments.join(".") in facts.commented) return undefined;
  for (let length = 1; length <= segments.length; length++) {
    const prefix = segments.slice(0, length).join(".");
    if (prefix in facts.open || facts.keys[prefix] === "open") return undefined;
    const kind = facts.keys[prefix];
    if (kind === undefined) return `"${prefix}" is not a values key of the chart`;
    if (length < segments.length && kind !== "map")
      return `"${prefix}" is a ${kind} in the chart, not a map with "${segments[length]}"`;
  }
  return undefined;
}

/** Values a chart source sets: the add-on's values files plus the ApplicationSet's valuesObject. */
function projectValues(folder: string, applicationSet: string): { where: string; tree: unknown }[] {
  const valuesDir = path.join(addonsDir, folder, "values");
  const files = fs.existsSync(valuesDir) ? listFiles(valuesDir).filter((file) => /\.ya?ml$/.test(file)) : [];
  const fromFiles = files.flatMap((file) =>
    parseDocuments(file).map((tree) => ({ where: path.relative(addonsDir, file), tree })),
  );
  const sets = parseDocuments(path.join(addonsDir, folder, "applicationset.yaml")) as Tree[];
  const set = sets.find((candidate) => (candidate.metadata as Tree).name === applicationSet) as Tree;
  const app = ((set.spec as Tree).template as Tree).spec as Tree;
  const sources = (app.sources as Tree[] | undefined) ?? [app.source as Tree];
  const fromObject = sources
    .filter((source) => typeof source.chart === "string")
    .map((source) => ({
      where: `${folder}/applicationset.yaml valuesObject`,
      tree: (source.helm as Tree | undefined)?.valuesObject ?? valuesString(source.helm as Tree | undefined),
    }));
  return [...fromFiles, ...fromObject];
}

/** A `helm.values` string (Argo CD's alternative to valuesObject), its template actions replaced: the keys count. */
function valuesString(helm: Tree | undefined): unknown {
  return typeof helm?.values === "string" ? parse(helm.values.replace(/\{\{[^}]*\}\}/g, "placeholder")) : {};
}

interface CrdFields {
  kinds: Record<
    string,
    { served: boolean; fields: Record<string, { type: string; enum?: unknown[]; open?: boolean }> }
  >;
}
const karpenterCrds = upstreamFact<CrdFields>("karpenter-1.14.1.crd-fields.json");

/** Problems of one object against its CRD's vendored fields: unknown fields and values outside an enum. */
export function crdProblems(facts: CrdFields, object: Tree): string[] {
  const kind = facts.kinds[`${String(object.apiVersion)}/${String(object.kind)}`];
  if (!kind)
    return [`${String(object.apiVersion)} ${String(object.kind)} is not served by the vendored CRDs`];
  const problems: string[] = [];
  const walk = (node: unknown, where: string) => {
    const field = kind.fields[where];
    if (!field) {
      problems.push(`${where} is not a field of ${String(object.kind)}`);
      return;
    }
    if (field.enum && !field.enum.includes(node))
      problems.push(`${where}: ${JSON.stringify(node)} not in ${JSON.stringify(field.enum)}`);
    if (field.open) return;
    if (Array.isArray(node)) node.forEach((item) => walk(item, `${where}[]`));
    else if (node !== null && typeof node === "object")
      for (const [key, value] of Object.entries(node)) walk(value, `${where}.${key}`);
  };
  walk(object.spec, "spec");
  return problems;
}

describe("vendored chart facts", () => {
  const pins = chartPins();

  it("every pinned chart has its values keys vendored at exactly the pinned version", () => {
    assert.ok(
      pins.length >= 6,
      "argo-cd, karpenter, cilium, falco, cost-analyzer, cluster-proportional-autoscaler",
    );
    for (const pin of pins) {
      const file = factFile(pin.chart, pin.version);
      assert.ok(
        fs.existsSync(path.join(upstreamDir, file)),
        `${pin.applicationSet} pins ${pin.chart} ${pin.version} but test/fixtures/upstream/${file} is missing: read the chart's values.yaml at that version (see test/fixtures/upstream/README.md)`,
      );
      const ref = upstreamFact<ValuesKeys>(file).source.ref;
      assert.ok(
        ref === pin.version || ref.endsWith(`-${pin.version}`) || ref === `v${pin.version}`,
        `${file} was read at ${ref}, the pin is ${pin.version}`,
      );
    }
  });

  it("no fact file is left behind for a version nobody pins", () => {
    const pinned = new Set(pins.map((pin) => factFile(pin.chart, pin.version)));
    const stale = fs
      .readdirSync(upstreamDir)
      .filter((file) => file.endsWith(".values-keys.json") && !pinned.has(file));
    assert.deepEqual(stale, []);
  });

  for (const pin of chartPins()) {
    it(`every values key set for ${pin.chart} exists in chart ${pin.version}`, () => {
      const facts = upstreamFact<ValuesKeys>(factFile(pin.chart, pin.version)).facts;
      const problems = projectValues(pin.folder, pin.applicationSet).flatMap(({ where, tree }) =>
        valuePaths(tree).flatMap((segments) => {
          const problem = unknownKey(facts, segments);
          return problem ? [`${where}: ${segments.join(".")}: ${problem}`] : [];
        }),
      );
      assert.deepEqual(problems, []);
    });
  }

  it("the Karpenter CRD facts are read at the Karpenter chart's pinned version", () => {
    assert.equal(karpenterCrds.source.ref, `v${chartPin("karpenter").version}`);
  });

  it("the self-managed Karpenter node pools use only fields and values of the CRDs at the pinned version", () => {
    for (const environment of ["dev", "staging", "prod"]) {
      const objects = kustomizeBuild(path.join(addonsDir, "karpenter/nodepools/karpenter", environment));
      assert.ok(objects.length >= 2);
      const problems = objects.flatMap((object) =>
        crdProblems(karpenterCrds.facts, object).map((problem) => `${environment}: ${problem}`),
      );
      assert.deepEqual(problems, []);
    }
    const pool = kustomizeBuild(path.join(addonsDir, "karpenter/nodepools/karpenter/prod")).find(
      (object) => object.kind === "NodePool",
    ) as Tree;
    const typo = structuredClone(pool);
    ((typo.spec as Tree).disruption as Tree).consolidationPolicy = "WhenIdle";
    (typo.spec as Tree).weigth = 10;
    assert.equal(crdProblems(karpenterCrds.facts, typo).length, 2);
  });

  it("a key the chart does not have is reported (the check can fail)", () => {
    const facts = upstreamFact<ValuesKeys>(
      factFile("karpenter", chartPins().find((p) => p.chart === "karpenter")!.version),
    ).facts;
    assert.equal(unknownKey(facts, ["settings", "clusterName"]), undefined);
    assert.match(String(unknownKey(facts, ["settings", "clustername"])), /not a values key/);
    assert.match(String(unknownKey(facts, ["replicas", "min"])), /is a scalar/);
    assert.equal(unknownKey(facts, ["controller", "resources", "requests", "cpu"]), undefined, "{} is open");
  });
});
