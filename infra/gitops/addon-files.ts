import * as fs from "node:fs";
import * as path from "node:path";
import { parse, parseAllDocuments } from "yaml";
import { isRecord } from "../objects";
import { projectRoot } from "../project";
import { ClusterGeneratorParams, renderTemplateTree } from "./template";

/** The addons/ folder of this checkout: what Argo CD syncs, and what Pulumi bootstraps from. */
export const defaultAddonsDir = path.join(projectRoot, "addons");

type Tree = Record<string, unknown>;

/** Parses every YAML document of a file; throws with the file name on a syntax error. */
export function readYamlDocuments(file: string): unknown[] {
  const documents = parseAllDocuments(fs.readFileSync(file, "utf8"), { prettyErrors: true });
  return documents
    .map((document) => {
      if (document.errors.length > 0) throw new Error(`${file}: ${document.errors[0].message}`);
      return document.toJS();
    })
    .filter((value) => value !== null && value !== undefined);
}

/** All ApplicationSets declared in addons/<addon>/applicationset.yaml, by metadata.name. */
export function readApplicationSets(addonsDir: string, addon: string): Map<string, Tree> {
  const file = path.join(addonsDir, addon, "applicationset.yaml");
  const sets = new Map<string, Tree>();
  for (const document of readYamlDocuments(file)) {
    const object = document as Tree;
    if (object.kind !== "ApplicationSet") continue;
    sets.set(String((object.metadata as Tree).name), object);
  }
  return sets;
}

/**
 * Helm's value coalescing: maps merge key by key, anything else (lists included) is replaced, and null deletes the
 * key. Later layers win.
 */
export function mergeValues(...layers: readonly unknown[]): Tree {
  const merge = (base: Tree, overlay: Tree): Tree => {
    const result: Tree = { ...base };
    for (const [key, value] of Object.entries(overlay)) {
      if (value === null) {
        delete result[key];
      } else if (isRecord(value) && isRecord(result[key])) {
        result[key] = merge(result[key] as Tree, value);
      } else {
        result[key] = value;
      }
    }
    return result;
  };
  return layers.filter(isRecord).reduce<Tree>((acc, layer) => merge(acc, layer as Tree), {});
}

/** A Helm chart install, as an ApplicationSet renders it for one cluster. */
export interface RenderedHelmRelease {
  readonly repo: string;
  readonly chart: string;
  readonly version: string;
  readonly releaseName: string;
  readonly namespace: string;
  /** The value files that exist, in order, as paths relative to addons/. */
  readonly valueFiles: string[];
  readonly values: Tree;
}

/**
 * Renders an add-on's ApplicationSet for one cluster and resolves its chart source exactly as Argo CD would: the
 * `$values/<basepath>/…` files from this checkout (missing ones skipped when ignoreMissingValueFiles is set), merged
 * in order, with `valuesObject` (or the `values` string) on top. Pulumi uses it for the bootstrap installs (Argo CD itself, Cilium), so the
 * first install and Argo CD's later syncs agree on chart, version and values.
 */
export function renderHelmRelease(
  addonsDir: string,
  addon: string,
  applicationSetName: string,
  params: ClusterGeneratorParams,
): RenderedHelmRelease {
  const set = readApplicationSets(addonsDir, addon).get(applicationSetName);
  if (!set)
    throw new Error(
      `addons/${addon}/applicationset.yaml declares no ApplicationSet named ${applicationSetName}`,
    );
  const template = renderTemplateTree((set.spec as Tree).template as Tree, params);
  const spec = template.spec as Tree;
  const sources = (spec.sources as Tree[] | undefined) ?? (spec.source ? [spec.source as Tree] : []);
  const chartSource = sources.find((source) => typeof source.chart === "string");
  if (!chartSource) throw new Error(`ApplicationSet ${applicationSetName} has no Helm chart source`);
  const helm = (chartSource.helm as Tree | undefined) ?? {};
  const basepath = params.metadata.annotations.addons_repo_basepath;
  const valueFiles: string[] = [];
  const layers: unknown[] = [];
  for (const reference of (helm.valueFiles as string[] | undefined) ?? []) {
    const prefix = `$values/${basepath}/`;
    if (!reference.startsWith(prefix)) {
      throw new Error(
        `${applicationSetName}: value file ${reference} is not under $values/${basepath}/ (the addons/ folder)`,
      );
    }
    const relative = reference.slice(prefix.length);
    const file = path.join(addonsDir, relative);
    if (!fs.existsSync(file)) {
      if (helm.ignoreMissingValueFiles === true) continue;
      throw new Error(`${applicationSetName}: value file addons/${relative} does not exist`);
    }
    valueFiles.push(relative);
    layers.push(...readYamlDocuments(file));
  }
  // Argo CD takes valuesObject when set, else the `values` string (YAML, rendered like every template string).
  layers.push(helm.valuesObject ?? (typeof helm.values === "string" ? parse(helm.values) : undefined));
  return {
    repo: String(chartSource.repoURL),
    chart: String(chartSource.chart),
    version: String(chartSource.targetRevision),
    releaseName: String(helm.releaseName ?? (template.metadata as Tree).name),
    namespace: String((spec.destination as Tree).namespace),
    valueFiles,
    values: mergeValues(...layers),
  };
}
