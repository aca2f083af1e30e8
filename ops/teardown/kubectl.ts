import { execFile } from "node:child_process";
import type { ArgoClient, ArgoObject } from "./drain";

/** Runs kubectl with the given arguments and returns its stdout; rejects with kubectl's stderr. */
export type KubectlRunner = (args: readonly string[]) => Promise<string>;

export function kubectlRunner(kubeconfigPath: string): KubectlRunner {
  return (args) =>
    new Promise((resolve, reject) => {
      execFile(
        "kubectl",
        ["--kubeconfig", kubeconfigPath, ...args],
        { maxBuffer: 64 * 1024 * 1024 },
        (error, stdout, stderr) => {
          if (error)
            reject(new Error(`kubectl ${args.slice(0, 3).join(" ")}: ${(stderr || error.message).trim()}`));
          else resolve(stdout);
        },
      );
    });
}

const resourceOf = {
  Application: "applications.argoproj.io",
  ApplicationSet: "applicationsets.argoproj.io",
} as const;

interface KubeItem {
  readonly metadata?: {
    readonly name?: string;
    readonly namespace?: string;
    readonly finalizers?: string[];
    readonly annotations?: Record<string, string>;
    readonly deletionTimestamp?: string;
    readonly ownerReferences?: { readonly kind?: string; readonly name?: string }[];
  };
  readonly spec?: {
    readonly syncPolicy?: { readonly automated?: unknown };
    readonly destination?: { readonly server?: string };
    readonly generators?: {
      readonly clusters?: { readonly selector?: { matchLabels?: Record<string, string> } };
    }[];
  };
}

/**
 * ArgoClient over kubectl: kubectl follows the kubeconfig's exec plugin (`aws eks get-token`) like every other
 * client, and is on GitHub's runners. Argo CD objects are addressed by their full resource names so a cluster
 * without Argo CD's CRDs answers "no such resource type", which counts as "nothing to drain".
 */
export class KubectlArgoClient implements ArgoClient {
  constructor(private readonly run: KubectlRunner) {}

  async list(namespace: string): Promise<ArgoObject[]> {
    const kinds = ["ApplicationSet", "Application"] as const;
    const lists = await Promise.all(kinds.map((kind) => this.listKind(kind, namespace)));
    return lists.flat();
  }

  async setFinalizers(object: ArgoObject, finalizers: readonly string[]): Promise<void> {
    await this.mergePatch(object, { metadata: { finalizers } });
  }

  async stopAutoSync(object: ArgoObject): Promise<void> {
    await this.mergePatch(object, { spec: { syncPolicy: { automated: null } } });
  }

  async delete(object: ArgoObject): Promise<void> {
    await this.run([
      "delete",
      resourceOf[object.kind],
      object.name,
      "--namespace",
      object.namespace,
      "--ignore-not-found",
      "--wait=false",
    ]);
  }

  private async mergePatch(object: ArgoObject, patch: object): Promise<void> {
    const target = [resourceOf[object.kind], object.name, "--namespace", object.namespace];
    await this.run(["patch", ...target, "--type", "merge", "--patch", JSON.stringify(patch)]);
  }

  private async listKind(kind: ArgoObject["kind"], namespace: string): Promise<ArgoObject[]> {
    let stdout: string;
    try {
      stdout = await this.run(["get", resourceOf[kind], "--namespace", namespace, "--output", "json"]);
    } catch (error) {
      if (
        /doesn't have a resource type|the server could not find the requested resource/i.test(
          (error as Error).message,
        )
      )
        return [];
      throw error;
    }
    const items = (JSON.parse(stdout) as { items?: KubeItem[] }).items ?? [];
    return items.map((item) => ({
      kind,
      ...ownerOf(item),
      name: item.metadata?.name ?? "",
      namespace: item.metadata?.namespace ?? namespace,
      finalizers: item.metadata?.finalizers ?? [],
      syncWave: Number.parseInt(item.metadata?.annotations?.["argocd.argoproj.io/sync-wave"] ?? "0", 10) || 0,
      deleting: item.metadata?.deletionTimestamp !== undefined,
      autoSync: item.spec?.syncPolicy?.automated != null,
      ...(item.spec?.destination?.server ? { destinationServer: item.spec.destination.server } : {}),
      ...(item.spec?.generators?.[0]?.clusters?.selector?.matchLabels
        ? { clusterSelector: item.spec.generators[0].clusters.selector.matchLabels }
        : {}),
    }));
  }
}

function ownerOf(item: KubeItem): { owner?: string } {
  const owner = item.metadata?.ownerReferences?.find(
    (reference) => reference.kind === "ApplicationSet",
  )?.name;
  return owner ? { owner } : {};
}
