import { strict as assert } from "node:assert";
import { renderHelmRelease } from "../../infra/gitops/addon-files";
import { clusterGeneratorParams } from "../../infra/gitops/template";
import type { SynthResult } from "../../synth";
import { addonsDir, chartPin, Tree } from "../addons/support";
import { ofType, synthesizedStack } from "../support/stacks";
import { upstreamFact } from "../upstream";
import { configOf, paramsOf } from "./generate";

/**
 * Cilium's ENI IPAM in a shared foundation VPC: the operator may create ENIs and delegate prefixes only in this
 * cluster's own subnets, never in another cluster's block or the runner subnets. The chart's subnet tag filter is
 * set to the ownership tag that only this cluster's subnets carry, the same in the bootstrap release and in what
 * Argo CD renders.
 */

interface SubnetFilterFacts {
  valuesKey: string;
  kind: string;
  configMapKey: string;
  configMapJoin: string;
  entryFormat: string;
  operatorFlag: { name: string; type: string };
}
const filterFact = upstreamFact<SubnetFilterFacts>("cilium-1.20.0.eni-subnet-filter.json");
const valuesKeys = upstreamFact<{ keys: Record<string, string> }>("cilium-1.20.0.values-keys.json");

function at(tree: Tree, dotted: string): unknown {
  return dotted.split(".").reduce<unknown>((node, key) => (node as Tree | undefined)?.[key], tree);
}

/** The key=value pairs of a filter list, as the operator parses the joined flag value. */
function tagPairs(filter: unknown): [string, string][] {
  assert.ok(Array.isArray(filter) && filter.length > 0, `${filterFact.facts.valuesKey} is a non-empty list`);
  return (filter as unknown[]).map((entry) => {
    assert.equal(typeof entry, "string");
    const text = entry as string;
    // The chart joins the entries with "," into one StringToString flag value: an entry holds no "," and one "=".
    assert.ok(!text.includes(filterFact.facts.configMapJoin), `${text} holds the chart's separator`);
    const equals = text.indexOf("=");
    assert.ok(
      equals > 0 && text.indexOf("=", equals + 1) === -1,
      `${text} is not ${filterFact.facts.entryFormat}`,
    );
    return [text.slice(0, equals), text.slice(equals + 1)];
  });
}

describe("Cilium ENI subnets (shared foundation VPC)", () => {
  let staging: SynthResult;
  before(async () => {
    staging = await synthesizedStack("staging");
  });

  it("uses the chart key and flag format read at the pinned version", () => {
    assert.equal(chartPin("cilium").version, filterFact.source.ref, "re-read the fact at the new pin");
    assert.equal(valuesKeys.source.ref, filterFact.source.ref);
    assert.equal(filterFact.facts.valuesKey, "eni.subnetTagsFilter");
    assert.equal(valuesKeys.facts.keys[filterFact.facts.valuesKey], filterFact.facts.kind);
    assert.equal(filterFact.facts.kind, "list");
    assert.equal(filterFact.facts.configMapKey, filterFact.facts.operatorFlag.name);
    assert.equal(filterFact.facts.operatorFlag.type, "StringToString");
  });

  it("restricts a karpenter-mode cluster to its own subnets, in the bootstrap and in Argo CD's render alike", () => {
    const clusterName = configOf(staging).cluster.name;
    assert.equal(configOf(staging).compute.mode, "karpenter");
    const release = ofType(staging, "kubernetes:helm.sh/v3:Release").find(
      (candidate) => candidate.inputs.chart === "cilium",
    );
    assert.ok(release, "staging bootstraps Cilium");
    const bootstrap = release.inputs.values as Tree;
    const argo = renderHelmRelease(addonsDir, "cilium", "cilium", paramsOf(staging)).values;
    assert.deepEqual(bootstrap, argo, "Argo CD adopts the bootstrap release without a change");

    const filter = at(argo, filterFact.facts.valuesKey);
    assert.deepEqual(filter, [`kubernetes.io/cluster/${clusterName}=owned`]);
    assert.equal(at(argo, "eni.enabled"), true, "the chart renders the filter only with ENI on");

    // Every subnet of the stack matches (its nodes' primary ENIs are there, as the chart requires).
    const pairs = tagPairs(filter);
    const subnets = ofType(staging, "aws:ec2/subnet:Subnet");
    assert.ok(subnets.length >= 3);
    for (const subnet of subnets) {
      const tags = subnet.inputs.tags as Record<string, string>;
      for (const [key, value] of pairs)
        assert.equal(tags[key], value, `${subnet.urn} carries ${key}=${value}`);
    }
  });

  it("names each cluster's own tag, so a neighbour's subnets never match", () => {
    const params = paramsOf(staging);
    const neighbour = clusterGeneratorParams({
      name: "gitops-neighbour",
      server: params.server,
      labels: params.metadata.labels,
      annotations: { ...params.metadata.annotations, aws_cluster_name: "gitops-neighbour" },
    });
    const theirs = tagPairs(
      at(renderHelmRelease(addonsDir, "cilium", "cilium", neighbour).values, "eni.subnetTagsFilter"),
    );
    assert.deepEqual(theirs, [["kubernetes.io/cluster/gitops-neighbour", "owned"]]);
    for (const subnet of ofType(staging, "aws:ec2/subnet:Subnet")) {
      const tags = subnet.inputs.tags as Record<string, string>;
      assert.ok(
        !theirs.every(([key, value]) => tags[key] === value),
        `${subnet.urn} would be open to the neighbour's operator`,
      );
    }
  });
});
