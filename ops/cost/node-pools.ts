import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { defaultAddonsDir, readYamlDocuments } from "../../infra/gitops/addon-files";

type Tree = Record<string, unknown>;

/** What the estimate needs to know about the node pool that runs the platform's own pods. */
export interface PlatformNodePool {
  /** NodePool name, or Auto Mode's built-in `general-purpose`. */
  readonly name: string;
  readonly capacityType: "spot" | "on-demand";
  readonly architectures: readonly ("amd64" | "arm64")[];
  /** Instance categories (the family letter: c, m, r, t…); empty = any. */
  readonly categories: readonly string[];
  /** Minimum instance generation (exclusive), when the pool sets one. */
  readonly generationAbove?: number;
  /** Where it was read, for the printed assumption. */
  readonly source: string;
}

/** Auto Mode's built-in general-purpose pool (EKS User Guide): on-demand, amd64, C/M/R families, generation > 4. */
export const autoModeGeneralPurpose: PlatformNodePool = {
  name: "general-purpose",
  capacityType: "on-demand",
  architectures: ["amd64"],
  categories: ["c", "m", "r"],
  generationAbove: 4,
  source: "EKS Auto Mode built-in pool",
};

/** The NodePools of addons/karpenter/nodepools/<mode>/<environment>/ (kustomize `resources`, followed recursively). */
export function readNodePools(mode: string, environment: string, addonsDir = defaultAddonsDir): Tree[] {
  const build = (dir: string): Tree[] => {
    const kustomization = parse(fs.readFileSync(path.join(dir, "kustomization.yaml"), "utf8")) as Tree;
    return ((kustomization.resources as string[] | undefined) ?? []).flatMap((resource) => {
      const target = path.resolve(dir, resource);
      return fs.statSync(target).isDirectory() ? build(target) : (readYamlDocuments(target) as Tree[]);
    });
  };
  const dir = path.join(addonsDir, "karpenter", "nodepools", mode, environment);
  return fs.existsSync(dir) ? build(dir).filter((object) => object.kind === "NodePool") : [];
}

const requirement = (pool: Tree, suffix: string) => {
  const requirements = ((((pool.spec as Tree).template as Tree).spec as Tree).requirements ?? []) as {
    key: string;
    operator: string;
    values?: string[];
  }[];
  return requirements.find((entry) => entry.key.endsWith(suffix));
};

/**
 * The pool the platform's ordinary pods (Kubecost, Falco's sidekick, Hubble's relay and UI…) land on. Karpenter
 * (kubernetes-sigs/karpenter v1.14.1, pkg/utils/nodepool/nodepool.go OrderByWeight) tries pools by weight, highest
 * first, and on equal weight by name, later in the alphabet first; a pool with taints these pods do not tolerate is
 * skipped (startup taints do not count). Auto Mode's built-in general-purpose pool (weight 0) competes when
 * `withGeneralPurpose`. Within the pool Karpenter prefers spot over on-demand and the cheapest instance, so arm64
 * wins where allowed.
 */
export function platformNodePool(
  pools: readonly Tree[],
  withGeneralPurpose: boolean,
): PlatformNodePool | undefined {
  const builtIn = { name: autoModeGeneralPurpose.name, weight: 0, pool: undefined as Tree | undefined };
  const candidates = [
    ...pools.filter(taintless).map((pool) => ({
      name: String((pool.metadata as Tree).name),
      weight: Number((pool.spec as Tree).weight ?? 0),
      pool: pool as Tree | undefined,
    })),
    ...(withGeneralPurpose ? [builtIn] : []),
  ].sort((a, b) => (a.weight === b.weight ? (a.name < b.name ? 1 : -1) : b.weight - a.weight));
  if (candidates.length === 0) return undefined;
  const pool = candidates[0].pool;
  if (!pool) return autoModeGeneralPurpose;
  const capacity = requirement(pool, "/capacity-type")?.values ?? ["on-demand"];
  const arch = (requirement(pool, "kubernetes.io/arch")?.values ?? ["amd64"]) as ("amd64" | "arm64")[];
  const generation = requirement(pool, "/instance-generation");
  return {
    name: String((pool.metadata as Tree).name),
    capacityType: capacity.includes("spot") ? "spot" : "on-demand",
    architectures: arch,
    categories: requirement(pool, "/instance-category")?.values ?? [],
    ...(generation?.operator === "Gt" ? { generationAbove: Number(generation.values?.[0]) } : {}),
    source: `addons/karpenter/nodepools (NodePool ${String((pool.metadata as Tree).name)})`,
  };
}

/** A pool whose nodes carry no taint (startup taints are removed once the node is ready, so they do not count). */
function taintless(pool: Tree): boolean {
  const taints = (((pool.spec as Tree).template as Tree).spec as Tree).taints as unknown[] | undefined;
  return (taints ?? []).length === 0;
}

/** Graviton families (m7g, c8g, t4g…) run arm64. */
const architectureOf = (instanceType: string) =>
  /^[a-z]+\d+[a-z]*g[a-z]*\./.test(instanceType) ? "arm64" : "amd64";

/** The cheapest instance type of a price list that the pool may launch; undefined when none fits. */
export function cheapestFit(
  pool: PlatformNodePool,
  instanceHour: Readonly<Record<string, number>>,
): string | undefined {
  return Object.entries(instanceHour)
    .filter(([type]) => {
      const match = /^([a-z])[a-z]*?(\d+)/.exec(type);
      if (!match) return false;
      const [, category, generation] = match;
      return (
        pool.architectures.includes(architectureOf(type)) &&
        (pool.categories.length === 0 || pool.categories.includes(category)) &&
        (pool.generationAbove === undefined || Number(generation) > pool.generationAbove)
      );
    })
    .sort((a, b) => a[1] - b[1])[0]?.[0];
}
