import { strict as assert } from "node:assert";
import { clusterSecretData } from "../../infra/gitops/cluster-secret";
import {
  clusterGeneratorParams,
  ClusterGeneratorParams,
  generateApplication,
  TemplateError,
} from "../../infra/gitops/template";
import type { PlatformConfig } from "../../infra/config";
import type { SynthResult } from "../../synth";
import { applicationSets, selects, Tree } from "../addons/support";
import { single } from "../support/stacks";

/** The ApplicationSet controller, offline: what it generates from addons/ for a synthesized stack's cluster Secret. */

function allApplicationSets(): Tree[] {
  return applicationSets().map(({ set }) => set);
}

export function clusterSecretOf(result: SynthResult): {
  labels: Record<string, string>;
  annotations: Record<string, string>;
} {
  const secret = single(result, "kubernetes:core/v1:Secret");
  const metadata = secret.inputs.metadata as {
    labels: Record<string, string>;
    annotations: Record<string, string>;
  };
  return { labels: metadata.labels, annotations: metadata.annotations };
}

/**
 * The cluster generator's parameters. The Secret's stringData (name, server) is redacted in the synth output
 * (the Kubernetes SDK marks Secret data secret), so they are derived with the same functions the program uses;
 * the component tests check the stringData itself.
 */
export function paramsOf(result: SynthResult): ClusterGeneratorParams {
  const secret = clusterSecretOf(result);
  const data = clusterSecretData(
    configOf(result),
    configOf(result).cluster.name,
    secret.annotations.aws_cluster_arn,
  );
  return clusterGeneratorParams({
    name: data.name,
    server: data.server,
    labels: secret.labels,
    annotations: secret.annotations,
  });
}

/** What the ApplicationSet controller would generate for this cluster: ApplicationSet name → Application. */
export function generate(result: SynthResult): Map<string, Tree> {
  return generateFor(paramsOf(result), result.stack);
}

/** What the ApplicationSet controller generates for one cluster Secret's parameters (`where` names it in failures). */
export function generateFor(params: ClusterGeneratorParams, where: string): Map<string, Tree> {
  const generated = new Map<string, Tree>();
  for (const set of allApplicationSets()) {
    const spec = set.spec as Tree;
    const clusters = (spec.generators as Tree[])[0].clusters as Tree;
    const matchLabels = (clusters.selector as Tree).matchLabels as Record<string, string>;
    if (!selects(matchLabels, params.metadata.labels)) continue;
    const name = String((set.metadata as Tree).name);
    try {
      generated.set(name, generateApplication(set, params));
    } catch (error) {
      if (error instanceof TemplateError) assert.fail(`${where}: ApplicationSet ${name}: ${error.message}`);
      throw error;
    }
  }
  return generated;
}

/** The synth records the validated config untyped. */
export function configOf(result: SynthResult): PlatformConfig {
  return result.config as PlatformConfig;
}
