import { parseAllDocuments } from "yaml";

/**
 * Container-image extraction from rendered manifests (`helm template` output). The walk is generic: any object
 * holding `containers`, `initContainers` or `ephemeralContainers` is a pod spec, wherever it sits. That covers
 * Pods, Deployments, StatefulSets, DaemonSets, Jobs, CronJobs (spec.jobTemplate.spec.template.spec), List items
 * and CRDs that embed pod templates, without a table of kinds that a new chart could outgrow.
 */

export type ContainerKind = "containers" | "initContainers" | "ephemeralContainers";
const containerKinds: readonly ContainerKind[] = ["containers", "initContainers", "ephemeralContainers"];

/** One place an image is used. */
export interface ImageUse {
  readonly image: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace?: string;
  readonly container: string;
  readonly containerKind: ContainerKind;
  /** Dotted path inside the manifest, e.g. spec.jobTemplate.spec.template.spec.initContainers[0]. */
  readonly path: string;
}

export interface ImageReference {
  readonly registry: string;
  readonly repository: string;
  readonly tag?: string;
  readonly digest?: string;
}

export interface ExtractResult {
  readonly uses: ImageUse[];
  /** Containers whose `image` is missing, empty or still holds a template: a render bug, never scannable. */
  readonly problems: string[];
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function ownerOf(document: Json): { kind: string; name: string; namespace?: string } {
  const metadata = isObject(document.metadata) ? document.metadata : {};
  return {
    kind: typeof document.kind === "string" ? document.kind : "<no kind>",
    name: typeof metadata.name === "string" ? metadata.name : "<no name>",
    namespace: typeof metadata.namespace === "string" ? metadata.namespace : undefined,
  };
}

function walk(value: unknown, path: string, visit: (node: Json, path: string) => void): void {
  if (Array.isArray(value)) {
    value.forEach((item, index) => walk(item, `${path}[${index}]`, visit));
    return;
  }
  if (!isObject(value)) return;
  visit(value, path);
  for (const [key, child] of Object.entries(value)) walk(child, path ? `${path}.${key}` : key, visit);
}

/** Every image use in a multi-document YAML stream. Throws on YAML syntax errors (a broken render must fail). */
export function extractImages(manifests: string): ExtractResult {
  const uses: ImageUse[] = [];
  const problems: string[] = [];
  for (const document of parseAllDocuments(manifests)) {
    if (document.errors.length > 0)
      throw new Error(`rendered manifests are not valid YAML: ${document.errors[0].message}`);
    const root: unknown = document.toJS();
    if (!isObject(root)) continue;
    // A `kind: List` carries its objects in `items`; each item is its own owner.
    const objects = root.kind === "List" && Array.isArray(root.items) ? root.items.filter(isObject) : [root];
    for (const object of objects) {
      const owner = ownerOf(object);
      walk(object, "", (node, path) => {
        for (const containerKind of containerKinds) {
          const list = node[containerKind];
          if (!Array.isArray(list)) continue;
          list.forEach((container: unknown, index) => {
            if (!isObject(container)) return;
            const where = `${path ? `${path}.` : ""}${containerKind}[${index}]`;
            const containerName = typeof container.name === "string" ? container.name : `#${index}`;
            const image = container.image;
            const label = `${owner.kind}/${owner.name} ${where} (${containerName})`;
            if (typeof image !== "string" || image.trim() === "") {
              problems.push(`${label}: no image`);
              return;
            }
            if (/[{}\s]/.test(image)) {
              problems.push(`${label}: image ${JSON.stringify(image)} is not a valid reference`);
              return;
            }
            uses.push({ ...owner, image, container: containerName, containerKind, path: where });
          });
        }
      });
    }
  }
  return { uses, problems };
}

const digestPattern = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

/**
 * Splits a reference the way Docker does: the first path component is a registry only if it has a "." or ":"
 * or is "localhost"; Docker Hub's single-name images live under `library/`.
 */
export function parseImageReference(reference: string): ImageReference {
  let rest = reference;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!digestPattern.test(digest)) throw new Error(`image ${reference}: malformed digest`);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf("/");
  const colon = rest.lastIndexOf(":");
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  const parts = rest.split("/");
  let registry = "docker.io";
  if (parts.length > 1 && (parts[0].includes(".") || parts[0].includes(":") || parts[0] === "localhost")) {
    registry = parts.shift() as string;
  }
  if (registry === "index.docker.io") registry = "docker.io";
  let repository = parts.join("/");
  if (registry === "docker.io" && parts.length === 1) repository = `library/${repository}`;
  if (
    !repository ||
    !/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/.test(repository)
  ) {
    throw new Error(`image ${reference}: invalid repository name`);
  }
  return { registry, repository, tag, digest };
}

/**
 * The reference to scan: fully qualified, digest when there is one (it is what the kubelet pulls), otherwise the
 * tag, with Docker's implicit `latest` made explicit so `nginx` and `docker.io/library/nginx:latest` are one image.
 */
export function canonicalImage(reference: string): string {
  const parsed = parseImageReference(reference);
  const name = `${parsed.registry}/${parsed.repository}`;
  return parsed.digest ? `${name}@${parsed.digest}` : `${name}:${parsed.tag ?? "latest"}`;
}

export interface UniqueImage {
  /** What to hand to `trivy image`. */
  readonly reference: string;
  /** Every spelling of it seen in the manifests, and where. */
  readonly uses: ImageUse[];
  /** true when the manifests name no tag and no digest (an implicit, moving `latest`). */
  readonly floating: boolean;
}

/** Deduplicates uses by canonical reference; sorted so scan order and reports are stable. */
export function uniqueImages(uses: readonly ImageUse[]): UniqueImage[] {
  const byReference = new Map<string, ImageUse[]>();
  for (const use of uses) {
    const reference = canonicalImage(use.image);
    byReference.set(reference, [...(byReference.get(reference) ?? []), use]);
  }
  return [...byReference.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([reference, list]) => ({
      reference,
      uses: list,
      floating: list.some((use) => {
        const parsed = parseImageReference(use.image);
        return parsed.tag === undefined && parsed.digest === undefined;
      }),
    }));
}
