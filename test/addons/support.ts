import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import Ajv from "ajv";
import { parse, parseAllDocuments } from "yaml";
import { defaultAddonsDir, readApplicationSets } from "../../infra/gitops/addon-files";
import { upstreamFact } from "../upstream";

/** Helpers for checking addons/ offline: file listing, schema validation, a kustomize subset, label selection. */

export const addonsDir = defaultAddonsDir;

export type Tree = Record<string, unknown>;

/** One folder per add-on under addons/. */
export const addonFolders = fs
  .readdirSync(addonsDir, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();

/** Every ApplicationSet in addons/, with the folder and file it came from. */
export function applicationSets(): { folder: string; name: string; set: Tree }[] {
  return addonFolders.flatMap((folder) =>
    [...readApplicationSets(addonsDir, folder).entries()].map(([name, set]) => ({
      folder,
      name,
      set: set as Tree,
    })),
  );
}

export function listFiles(dir: string = addonsDir): string[] {
  return (
    fs
      .readdirSync(dir, { withFileTypes: true })
      // Tool settings such as .yamllint.yaml are not manifests.
      .filter((entry) => !entry.name.startsWith("."))
      .flatMap((entry) => {
        const full = path.join(dir, entry.name);
        return entry.isDirectory() ? listFiles(full) : [full];
      })
      .sort()
  );
}

export function yamlFiles(): string[] {
  return listFiles().filter((file) => /\.ya?ml$/.test(file));
}

export function relative(file: string): string {
  return path.relative(path.dirname(addonsDir), file);
}

/** Strict parse: duplicate keys and syntax errors fail; returns every non-empty document. */
export function parseDocuments(file: string): unknown[] {
  const documents = parseAllDocuments(fs.readFileSync(file, "utf8"), { uniqueKeys: true, strict: true });
  for (const document of documents) {
    if (document.errors.length > 0) throw new Error(`${relative(file)}: ${document.errors[0].message}`);
  }
  return documents
    .map((document) => document.toJS())
    .filter((value) => value !== null && value !== undefined);
}

/** A Kubernetes object as found in git (kind + apiVersion at the top). */
export function isKubernetesObject(value: unknown): value is Tree & { apiVersion: string; kind: string } {
  return (
    value !== null &&
    typeof value === "object" &&
    typeof (value as Tree).apiVersion === "string" &&
    typeof (value as Tree).kind === "string"
  );
}

/**
 * JSON schema for the EKS Auto Mode NodeClass (eks.amazonaws.com/v1), written from the EKS User Guide
 * ("Create a Node Class for Amazon EKS", create-node-class.adoc): no model package publishes it. Unknown fields are
 * rejected so a typo fails here rather than on the API server.
 */
export const autoModeNodeClassSchema = {
  type: "object",
  required: ["apiVersion", "kind", "metadata", "spec"],
  additionalProperties: false,
  properties: {
    apiVersion: { const: "eks.amazonaws.com/v1" },
    kind: { const: "NodeClass" },
    metadata: {
      type: "object",
      required: ["name"],
      properties: { name: { type: "string", pattern: "^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$" } },
    },
    spec: {
      type: "object",
      required: ["role", "subnetSelectorTerms", "securityGroupSelectorTerms"],
      additionalProperties: false,
      properties: {
        role: { type: "string", minLength: 1 },
        subnetSelectorTerms: { $ref: "#/definitions/selectorTerms" },
        securityGroupSelectorTerms: { $ref: "#/definitions/selectorTerms" },
        podSubnetSelectorTerms: { $ref: "#/definitions/selectorTerms" },
        podSecurityGroupSelectorTerms: { $ref: "#/definitions/selectorTerms" },
        snatPolicy: { enum: ["Random", "Disabled"] },
        networkPolicy: { enum: ["DefaultAllow", "DefaultDeny"] },
        networkPolicyEventLogs: { enum: ["Enabled", "Disabled"] },
        ephemeralStorage: {
          type: "object",
          additionalProperties: false,
          properties: {
            size: { type: "string", pattern: "^[0-9]+(Mi|Gi|Ti|M|G|T)$" },
            iops: { type: "integer", minimum: 3000, maximum: 16000 },
            throughput: { type: "integer", minimum: 125, maximum: 1000 },
            kmsKeyID: { type: "string" },
          },
        },
        advancedNetworking: {
          type: "object",
          additionalProperties: false,
          properties: {
            associatePublicIPAddress: { type: "boolean" },
            httpsProxy: { type: "string" },
            noProxy: { type: "array", items: { type: "string" } },
          },
        },
        tags: { type: "object", additionalProperties: { type: "string" } },
      },
    },
  },
  definitions: {
    selectorTerms: {
      type: "array",
      minItems: 1,
      maxItems: 30,
      items: {
        type: "object",
        additionalProperties: false,
        minProperties: 1,
        properties: {
          id: { type: "string", pattern: "^(subnet|sg)-[0-9a-z]+$" },
          name: { type: "string" },
          tags: { type: "object", minProperties: 1, additionalProperties: { type: "string" } },
        },
      },
    },
  },
} as const;

/** The ClusterSecretStore fields we rely on, as vendored from the external-secrets CRD at the pinned chart. */
export interface ClusterSecretStoreFields {
  readonly group: string;
  readonly kind: string;
  readonly servedVersions: readonly string[];
  readonly spec: { readonly required: readonly string[]; readonly properties: readonly string[] };
  readonly provider: { readonly minProperties: number; readonly maxProperties: number };
  readonly aws: {
    readonly required: readonly string[];
    readonly properties: Record<string, { readonly type: string; readonly enum?: readonly string[] }>;
  };
}

export const clusterSecretStoreFact = upstreamFact<ClusterSecretStoreFields>(
  "external-secrets-2.9.0.clustersecretstore-fields.json",
);

/**
 * A strict JSON schema for a ClusterSecretStore with the AWS provider, built from the vendored CRD fields: served
 * API versions, required fields, the AWS provider's field names, types and enums (unknown fields rejected).
 */
export function clusterSecretStoreSchema(fields: ClusterSecretStoreFields): Record<string, unknown> {
  return {
    type: "object",
    required: ["apiVersion", "kind", "metadata", "spec"],
    additionalProperties: false,
    properties: {
      apiVersion: { enum: fields.servedVersions.map((version) => `${fields.group}/${version}`) },
      kind: { const: fields.kind },
      metadata: {
        type: "object",
        required: ["name"],
        properties: { name: { type: "string", pattern: "^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$" } },
      },
      spec: {
        type: "object",
        required: fields.spec.required,
        additionalProperties: false,
        properties: {
          ...Object.fromEntries(fields.spec.properties.map((name) => [name, {}])),
          provider: {
            type: "object",
            minProperties: fields.provider.minProperties,
            maxProperties: fields.provider.maxProperties,
            properties: {
              aws: {
                type: "object",
                required: fields.aws.required,
                additionalProperties: false,
                properties: Object.fromEntries(
                  Object.entries(fields.aws.properties).map(([name, field]) => [
                    name,
                    field.enum ? { type: field.type, enum: field.enum } : { type: field.type },
                  ]),
                ),
              },
            },
          },
        },
      },
    },
  };
}

type Validator = (object: Tree) => void;

/**
 * Validators by `apiVersion/kind`: the published models (CRD schemas of Argo CD and Karpenter, Kubernetes' OpenAPI)
 * and the hand-written NodeClass schema. The model packages are ESM-only, hence the dynamic imports.
 */
export type Validators = Awaited<ReturnType<typeof loadValidators>>;

export async function loadValidators(): Promise<Map<string, Validator>> {
  const model =
    (load: () => Promise<Record<string, unknown>>, name: string): (() => Promise<Validator>) =>
    async () => {
      const Model = (await load())[name] as new (data: Tree) => { validate(): void };
      return (object: Tree) => new Model(object).validate();
    };
  const ajv = new Ajv({ allErrors: true, strict: true });
  const nodeClass = ajv.compile(autoModeNodeClassSchema);
  const secretStore = ajv.compile(clusterSecretStoreSchema(clusterSecretStoreFact.facts));
  const entries: [string, () => Promise<Validator>][] = [
    [
      "argoproj.io/v1alpha1/ApplicationSet",
      model(() => import("@kubernetes-models/argo-cd/argoproj.io/v1alpha1/ApplicationSet"), "ApplicationSet"),
    ],
    [
      "argoproj.io/v1alpha1/Application",
      model(() => import("@kubernetes-models/argo-cd/argoproj.io/v1alpha1/Application"), "Application"),
    ],
    [
      "argoproj.io/v1alpha1/AppProject",
      model(() => import("@kubernetes-models/argo-cd/argoproj.io/v1alpha1/AppProject"), "AppProject"),
    ],
    [
      "karpenter.sh/v1/NodePool",
      model(() => import("@kubernetes-models/karpenter/karpenter.sh/v1/NodePool"), "NodePool"),
    ],
    [
      "karpenter.k8s.aws/v1/EC2NodeClass",
      model(() => import("@kubernetes-models/karpenter/karpenter.k8s.aws/v1/EC2NodeClass"), "EC2NodeClass"),
    ],
    [
      "storage.k8s.io/v1/StorageClass",
      model(() => import("kubernetes-models/storage.k8s.io/v1/StorageClass"), "StorageClass"),
    ],
    ["v1/ConfigMap", model(() => import("kubernetes-models/v1/ConfigMap"), "ConfigMap")],
    ["v1/Secret", model(() => import("kubernetes-models/v1/Secret"), "Secret")],
  ];
  const validators = new Map<string, Validator>();
  for (const [key, make] of entries) validators.set(key, await make());
  validators.set("eks.amazonaws.com/v1/NodeClass", (object) => {
    if (!nodeClass(object)) throw new Error(ajv.errorsText(nodeClass.errors));
  });
  for (const version of clusterSecretStoreFact.facts.servedVersions) {
    validators.set(
      `${clusterSecretStoreFact.facts.group}/${version}/${clusterSecretStoreFact.facts.kind}`,
      (object) => {
        if (!secretStore(object)) throw new Error(ajv.errorsText(secretStore.errors));
      },
    );
  }
  return validators;
}

export function validateObject(
  validators: Map<string, Validator>,
  object: Tree & { apiVersion: string; kind: string },
): void {
  const validator = validators.get(`${object.apiVersion}/${object.kind}`);
  if (!validator)
    throw new Error(`no schema for ${object.apiVersion} ${object.kind}: add one to test/addons/support.ts`);
  validator(object);
}

/** Kubernetes label selector `matchLabels` semantics. */
export function selects(matchLabels: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(matchLabels).every(([key, value]) => labels[key] === value);
}

/**
 * The subset of `kustomize build` the node-pool folders use: `resources` (files, or folders with their own
 * kustomization.yaml) and Argo CD `kustomize.patches` with JSON 6902 operations (add/replace) selected by
 * group/kind/name. Anything else in a kustomization fails, so the subset cannot silently drift from the files.
 */
export function kustomizeBuild(dir: string, patches: readonly Tree[] = []): Tree[] {
  const file = path.join(dir, "kustomization.yaml");
  const kustomization = parse(fs.readFileSync(file, "utf8")) as Tree;
  const unsupported = Object.keys(kustomization).filter(
    (key) => !["apiVersion", "kind", "resources"].includes(key),
  );
  if (unsupported.length > 0)
    throw new Error(`${relative(file)}: unsupported kustomization keys ${unsupported.join(", ")}`);
  const objects = ((kustomization.resources as string[]) ?? []).flatMap((resource) => {
    const target = path.resolve(dir, resource);
    if (fs.statSync(target).isDirectory()) return kustomizeBuild(target);
    return parseDocuments(target) as Tree[];
  });
  return objects.map((object) =>
    patches.reduce<Tree>((current, patch) => applyPatch(current, patch), object),
  );
}

function applyPatch(object: Tree, patch: Tree): Tree {
  const target = (patch.target ?? {}) as Record<string, string>;
  const [group] = String(object.apiVersion).includes("/") ? String(object.apiVersion).split("/") : [""];
  const name = (object.metadata as Tree).name;
  if (target.kind !== undefined && target.kind !== object.kind) return object;
  if (target.group !== undefined && target.group !== group) return object;
  if (target.name !== undefined && target.name !== name) return object;
  const operations = parse(String(patch.patch)) as { op: string; path: string; value: unknown }[];
  const result = structuredClone(object);
  for (const operation of operations) {
    if (operation.op !== "add" && operation.op !== "replace")
      throw new Error(`unsupported JSON patch op ${operation.op}`);
    const keys = operation.path
      .split("/")
      .slice(1)
      .map((key) => key.replace(/~1/g, "/").replace(/~0/g, "~"));
    const last = keys.pop() as string;
    let node: Tree = result;
    for (const key of keys) {
      if (node[key] === undefined || node[key] === null || typeof node[key] !== "object") {
        throw new Error(
          `JSON patch path ${operation.path} does not exist in ${String(object.kind)} ${String(name)}`,
        );
      }
      node = node[key] as Tree;
    }
    if (operation.op === "replace" && !(last in node)) {
      throw new Error(
        `JSON patch replace ${operation.path}: no such field in ${String(object.kind)} ${String(name)}`,
      );
    }
    node[last] = operation.value;
  }
  return result;
}

/** TypeScript interfaces of the published models, by `apiVersion/kind`, for the unknown-field check. */
const modelTypes: Record<string, { module: string; type: string }> = {
  "argoproj.io/v1alpha1/ApplicationSet": {
    module: "@kubernetes-models/argo-cd/argoproj.io/v1alpha1/ApplicationSet",
    type: "IApplicationSet",
  },
  "argoproj.io/v1alpha1/Application": {
    module: "@kubernetes-models/argo-cd/argoproj.io/v1alpha1/Application",
    type: "IApplication",
  },
  "argoproj.io/v1alpha1/AppProject": {
    module: "@kubernetes-models/argo-cd/argoproj.io/v1alpha1/AppProject",
    type: "IAppProject",
  },
  "karpenter.sh/v1/NodePool": {
    module: "@kubernetes-models/karpenter/karpenter.sh/v1/NodePool",
    type: "INodePool",
  },
  "karpenter.k8s.aws/v1/EC2NodeClass": {
    module: "@kubernetes-models/karpenter/karpenter.k8s.aws/v1/EC2NodeClass",
    type: "IEC2NodeClass",
  },
  "storage.k8s.io/v1/StorageClass": {
    module: "kubernetes-models/storage.k8s.io/v1/StorageClass",
    type: "IStorageClass",
  },
  "v1/ConfigMap": { module: "kubernetes-models/v1/ConfigMap", type: "IConfigMap" },
  "v1/Secret": { module: "kubernetes-models/v1/Secret", type: "ISecret" },
};

/**
 * The models' JSON-schema validators accept unknown fields (as a CRD without `fieldValidation=Strict` would prune
 * them silently), so a misspelt key would pass. TypeScript's excess-property check against the same models' types
 * catches it: each object becomes a typed literal in a generated module that `tsc` checks. Returns one message
 * per problem, prefixed with the object's label. Objects without a model type (the Auto Mode NodeClass, checked by
 * its own strict schema) are skipped.
 */
export function unknownFieldProblems(objects: readonly { label: string; object: Tree }[]): string[] {
  // Inside the project (out/ is git-ignored) so the generated module resolves the models from node_modules.
  const outDir = path.join(path.dirname(addonsDir), "out");
  fs.mkdirSync(outDir, { recursive: true });
  const dir = fs.mkdtempSync(path.join(outDir, ".strict-fields-"));
  try {
    const used = new Map<string, { module: string; type: string }>();
    const lines: string[] = [];
    const labels: string[] = [];
    for (const { label, object } of objects) {
      const model = modelTypes[`${String(object.apiVersion)}/${String(object.kind)}`];
      if (!model) continue;
      used.set(model.type, model);
      labels.push(label);
      lines.push(`export const object${labels.length - 1}: ${model.type} = ${JSON.stringify(object)};`);
    }
    const imports = [...used.values()].map(
      (model) => `import type { ${model.type} } from "${model.module}";`,
    );
    const file = path.join(dir, "objects.mts");
    fs.writeFileSync(file, [...imports, ...lines].join("\n") + "\n");
    const tsc = require.resolve("typescript/bin/tsc");
    const run = spawnSync(
      process.execPath,
      [
        tsc,
        "--noEmit",
        "--strict",
        "--skipLibCheck",
        "--module",
        "nodenext",
        "--moduleResolution",
        "nodenext",
        "--target",
        "es2022",
        file,
      ],
      { encoding: "utf8" },
    );
    if (run.status === 0) return [];
    const problems = run.stdout
      .split("\n")
      .filter((line) => line.includes("error TS"))
      .map((line) => {
        const lineNumber = Number(/\((\d+),\d+\)/.exec(line)?.[1] ?? 0);
        const label = labels[lineNumber - imports.length - 1] ?? "?";
        return `${label}: ${line.replace(/^.*error TS\d+: /, "")}`;
      });
    return problems.length > 0 ? problems : [`tsc failed: ${run.stdout}${run.stderr}`];
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** A Helm chart an ApplicationSet pins: the chart name, its repository and the version (targetRevision). */
export interface ChartPin {
  readonly folder: string;
  readonly applicationSet: string;
  readonly chart: string;
  readonly repoURL: string;
  readonly version: string;
}

/** Every chart source pinned in addons/ (the versions Renovate bumps). */
export function chartPins(): ChartPin[] {
  return applicationSets().flatMap(({ folder, name, set }) => {
    const spec = (set.spec as Tree).template as Tree;
    const app = spec.spec as Tree;
    const sources = ((app.sources as Tree[] | undefined) ?? [app.source as Tree]).filter(Boolean);
    return sources
      .filter((source) => typeof source.chart === "string")
      .map((source) => ({
        folder,
        applicationSet: name,
        chart: source.chart as string,
        repoURL: source.repoURL as string,
        version: String(source.targetRevision),
      }));
  });
}

/** The one pin of a chart; a chart pinned twice (two versions) is an error here. */
export function chartPin(chart: string): ChartPin {
  const pins = chartPins().filter((pin) => pin.chart === chart);
  if (pins.length !== 1) throw new Error(`chart ${chart} is pinned ${pins.length} times in addons/`);
  return pins[0];
}
