/**
 * The image gate's input contract: a chart's coordinates plus the values to render it with. Nothing here knows
 * how addons/ is laid out (that is pipeline/addons.ts), so the gate can be pointed at any chart from the CLI.
 */

export interface ChartCoordinates {
  /** https://… chart repository, or an OCI registry path (`oci://host/path` or Argo CD's scheme-less `host/path`). */
  readonly repo: string;
  readonly chart: string;
  /** Exact chart version (Argo CD `targetRevision`). */
  readonly version: string;
  readonly namespace?: string;
  readonly releaseName?: string;
}

/** One `helm template` run. */
export interface RenderJob {
  readonly addon: string;
  /** Which stacks (or other label) this render stands for, for the report. */
  readonly variant: string;
  readonly coordinates: ChartCoordinates;
  /** Values files, applied in order. */
  readonly valuesFiles: readonly string[];
  /** Merged values applied last (written to a file by the gate). */
  readonly values?: Readonly<Record<string, unknown>>;
}

/** Argo CD names OCI Helm repositories without a scheme; helm needs `oci://host/path/chart`. */
export function isOciRepo(repo: string): boolean {
  return repo.startsWith("oci://") || !/^[a-z][a-z0-9+.-]*:\/\//i.test(repo);
}

export function chartReference(coordinates: ChartCoordinates): string {
  const { repo, chart } = coordinates;
  if (!isOciRepo(repo)) return chart;
  return `oci://${repo.replace(/^oci:\/\//, "").replace(/\/+$/, "")}/${chart}`;
}

/** The `helm template` command line for one render (pure, so the flags are tested without helm). */
export function helmTemplateArgs(job: RenderJob, extraValuesFiles: readonly string[] = []): string[] {
  const { repo, version, namespace, releaseName } = job.coordinates;
  if (!/^v?\d+\.\d+\.\d+([-+][0-9A-Za-z.+-]+)?$/.test(version)) {
    throw new Error(
      `${job.addon}: chart version ${JSON.stringify(version)} is not an exact version (ranges are not reproducible)`,
    );
  }
  const args = ["template", releaseName ?? job.addon, chartReference(job.coordinates)];
  if (!isOciRepo(repo)) args.push("--repo", repo);
  args.push("--version", version, "--namespace", namespace ?? job.addon);
  // Test hooks are never synced by Argo CD; their images would only add noise to the gate.
  args.push("--skip-tests");
  for (const file of [...job.valuesFiles, ...extraValuesFiles]) args.push("--values", file);
  return args;
}
