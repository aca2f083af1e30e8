/**
 * The subset of Go templates (text/template + ApplicationSet's cluster generator) that the ApplicationSets in
 * addons/ use, with `missingkey=error` semantics: a reference to a key the cluster Secret does not carry throws,
 * exactly where Argo CD would refuse to generate the Application.
 *
 * Supported actions: `{{ .path.to.key }}` and `{{ index .path "key" }}` (with `{{-` / `-}}` whitespace trimming).
 * Anything else (pipelines, functions, if/range) is rejected, so the templates stay simple enough to check offline.
 */

import { cascadeFinalizer } from "./argocd";

type Tree = Record<string, unknown>;

/** The parameters Argo CD's cluster generator exposes for one cluster Secret (goTemplate: true). */
export interface ClusterGeneratorParams {
  readonly name: string;
  readonly nameNormalized: string;
  readonly server: string;
  readonly metadata: {
    readonly labels: Readonly<Record<string, string>>;
    readonly annotations: Readonly<Record<string, string>>;
  };
}

export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TemplateError";
  }
}

/** Argo CD's `nameNormalized`: the cluster name made DNS-1123 compatible. */
export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9-.]/g, "-");
}

export function clusterGeneratorParams(secret: {
  name: string;
  server: string;
  labels: Readonly<Record<string, string>>;
  annotations: Readonly<Record<string, string>>;
}): ClusterGeneratorParams {
  return {
    name: secret.name,
    nameNormalized: normalizeName(secret.name),
    server: secret.server,
    metadata: { labels: secret.labels, annotations: secret.annotations },
  };
}

const action = /\{\{(-?)([\s\S]*?)(-?)\}\}/g;

/** Renders one template string; throws TemplateError on an unsupported action or a missing key. */
export function renderTemplate(template: string, params: ClusterGeneratorParams): string {
  let output = "";
  let last = 0;
  let trimNext = false;
  for (const match of template.matchAll(action)) {
    const [whole, trimBefore, body, trimAfter] = match;
    let literal = template.slice(last, match.index);
    if (trimNext) literal = literal.replace(/^\s+/, "");
    if (trimBefore === "-") literal = literal.replace(/\s+$/, "");
    output += literal + evaluate(body.trim(), params, whole);
    last = (match.index ?? 0) + whole.length;
    trimNext = trimAfter === "-";
  }
  let rest = template.slice(last);
  if (trimNext) rest = rest.replace(/^\s+/, "");
  return output + rest;
}

/** Renders every string value (not keys) of a YAML/JSON tree, like the ApplicationSet controller does. */
export function renderTemplateTree<T>(tree: T, params: ClusterGeneratorParams): T {
  const walk = (node: unknown): unknown => {
    if (typeof node === "string") return renderTemplate(node, params);
    if (Array.isArray(node)) return node.map(walk);
    if (node !== null && typeof node === "object") {
      return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, walk(value)]));
    }
    return node;
  };
  return walk(tree) as T;
}

/** Every `{{ … }}` action in a tree of strings, for reporting which keys a template needs. */
export function templateActions(tree: unknown): string[] {
  if (typeof tree === "string") return [...tree.matchAll(action)].map((match) => match[2].trim());
  if (Array.isArray(tree)) return tree.flatMap(templateActions);
  if (tree !== null && typeof tree === "object") return Object.values(tree).flatMap(templateActions);
  return [];
}

function evaluate(expression: string, params: ClusterGeneratorParams, source: string): string {
  const index = /^index\s+(\.[A-Za-z0-9_.]*)\s+"([^"]*)"$/.exec(expression);
  if (index) {
    const container = lookup(index[1], params, source);
    return stringify(entry(container, index[2], index[1], source), source);
  }
  if (/^\.[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$/.test(expression)) {
    return stringify(lookup(expression, params, source), source);
  }
  throw new TemplateError(
    `unsupported template action ${source}: only {{ .a.b }} and {{ index .a "key" }} are allowed`,
  );
}

function lookup(path: string, params: ClusterGeneratorParams, source: string): unknown {
  if (path === ".") return params;
  return path
    .slice(1)
    .split(".")
    .reduce<unknown>(
      (node, key, position, keys) => entry(node, key, `.${keys.slice(0, position).join(".")}`, source),
      params,
    );
}

function entry(node: unknown, key: string, where: string, source: string): unknown {
  if (node === null || typeof node !== "object" || Array.isArray(node)) {
    throw new TemplateError(`${source}: ${where} is not a map, cannot read "${key}"`);
  }
  if (!Object.prototype.hasOwnProperty.call(node, key)) {
    throw new TemplateError(`${source}: map has no entry for key "${key}" (missingkey=error)`);
  }
  return (node as Record<string, unknown>)[key];
}

function stringify(value: unknown, source: string): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  throw new TemplateError(`${source} renders a map or list, not a scalar`);
}

/**
 * The finalizers of the Applications an ApplicationSet generates. Argo CD's ApplicationSet controller (v3.4,
 * applicationset/utils/utils.go RenderTemplateParams) adds the cascading-delete finalizer to every generated
 * Application whose template lists no finalizers, unless the ApplicationSet sets
 * `syncPolicy.preserveResourcesOnDeletion: true`; it writes the result over the Application on every reconcile.
 * So deleting a generated Application (an add-on switched off, its ApplicationSet deleted) deletes everything it
 * deployed, CRDs included, unless the ApplicationSet preserves resources.
 */
export function generatedFinalizers(applicationSet: Tree): string[] {
  const spec = applicationSet.spec as Tree;
  const template = ((spec.template as Tree).metadata as Tree | undefined) ?? {};
  const fromTemplate = (template.finalizers as string[] | undefined) ?? [];
  const preserve = (spec.syncPolicy as Tree | undefined)?.preserveResourcesOnDeletion === true;
  return fromTemplate.length === 0 && !preserve ? [cascadeFinalizer] : fromTemplate;
}

/** The Application the ApplicationSet controller generates for one cluster: the rendered template plus its rules. */
export function generateApplication(applicationSet: Tree, params: ClusterGeneratorParams): Tree {
  const template = renderTemplateTree((applicationSet.spec as Tree).template as Tree, params);
  const metadata: Tree = {
    ...(template.metadata as Tree),
    namespace: (applicationSet.metadata as Tree).namespace,
  };
  const finalizers = generatedFinalizers(applicationSet);
  if (finalizers.length > 0) metadata.finalizers = finalizers;
  return { apiVersion: "argoproj.io/v1alpha1", kind: "Application", metadata, spec: template.spec };
}
