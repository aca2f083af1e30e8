import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { helmTemplateArgs, RenderJob } from "./render";
import { extractImages, ImageUse, UniqueImage, uniqueImages } from "./images";
import { mergeSarif, SarifLog } from "./sarif";

/**
 * The image gate: render each add-on's pinned chart, collect every container image, and scan each once with
 * `trivy image --severity HIGH,CRITICAL --ignore-unfixed --exit-code 1`. Any fixable HIGH/CRITICAL finding not
 * accepted in the ignore file, any image Trivy cannot scan and any render that fails make the gate fail:
 * an image nobody could check is not a pass.
 */

export const GATE_SEVERITY = "HIGH,CRITICAL";

export interface CommandResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}
export type CommandRunner = (command: string, args: readonly string[]) => CommandResult;

export const spawnRunner: CommandRunner = (command, args) => {
  const result = spawnSync(command, args, { encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
  if (result.error) return { status: null, stdout: "", stderr: result.error.message };
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
};

export interface Finding {
  readonly id: string;
  readonly severity: string;
  readonly pkg: string;
  readonly installed: string;
  readonly fixed: string;
}

export interface ImageVerdict {
  readonly reference: string;
  readonly addons: string[];
  readonly status: "pass" | "vulnerable" | "error";
  readonly findings: Finding[];
  readonly floating: boolean;
  readonly detail?: string;
}

export interface RenderOutcome {
  readonly addon: string;
  readonly variant: string;
  readonly chart: string;
  readonly images: number;
  readonly error?: string;
}

export interface GateReport {
  readonly renders: RenderOutcome[];
  readonly images: ImageVerdict[];
  readonly problems: string[];
  readonly passed: boolean;
}

export interface GateOptions {
  readonly jobs: readonly RenderJob[];
  /** Directory for per-image JSON and SARIF reports. */
  readonly workDir: string;
  readonly helm?: string;
  readonly trivy?: string;
  readonly ignoreFile?: string;
  readonly run?: CommandRunner;
}

/** The exact `trivy image` invocation for one image (pure, so the gate's flags are pinned by a test). */
export function trivyImageArgs(reference: string, outputFile: string, ignoreFile?: string): string[] {
  const args = [
    "image",
    "--severity",
    GATE_SEVERITY,
    "--ignore-unfixed",
    "--exit-code",
    "1",
    "--format",
    "json",
  ];
  args.push("--output", outputFile);
  if (ignoreFile) args.push("--ignorefile", ignoreFile);
  args.push(reference);
  return args;
}

/** Findings from a Trivy JSON report (`Results[].Vulnerabilities[]`). */
export function findingsFromReport(report: unknown): Finding[] {
  const results = (report as { Results?: unknown })?.Results;
  if (!Array.isArray(results)) return [];
  return results.flatMap((result: { Vulnerabilities?: unknown }) =>
    Array.isArray(result?.Vulnerabilities)
      ? result.Vulnerabilities.map((vulnerability: Record<string, unknown>) => ({
          id: String(vulnerability.VulnerabilityID ?? "?"),
          severity: String(vulnerability.Severity ?? "?"),
          pkg: String(vulnerability.PkgName ?? "?"),
          installed: String(vulnerability.InstalledVersion ?? ""),
          fixed: String(vulnerability.FixedVersion ?? ""),
        }))
      : [],
  );
}

function fileSafe(reference: string): string {
  return reference.replace(/[^A-Za-z0-9_.-]+/g, "_");
}

export interface RenderResult {
  readonly renders: RenderOutcome[];
  readonly problems: string[];
  /** Deduplicated images, each with the add-ons that use it. */
  readonly images: (UniqueImage & { addons: string[] })[];
}

/** Renders every job with `helm template` and extracts the images (no scanning). */
export function renderImages(
  jobs: readonly RenderJob[],
  workDir: string,
  helm = "helm",
  run: CommandRunner = spawnRunner,
): RenderResult {
  mkdirSync(workDir, { recursive: true });
  const renders: RenderOutcome[] = [];
  const problems: string[] = [];
  const uses: ImageUse[] = [];
  const addonOf = new Map<ImageUse, string>();
  for (const job of jobs) {
    const outcome = {
      addon: job.addon,
      variant: job.variant,
      chart: `${job.coordinates.chart}@${job.coordinates.version}`,
    };
    try {
      const valuesFile = join(workDir, `values-${fileSafe(job.addon)}-${renders.length}.json`);
      if (job.values) writeFileSync(valuesFile, JSON.stringify(job.values));
      const rendered = run(helm, helmTemplateArgs(job, job.values ? [valuesFile] : []));
      if (rendered.status !== 0) {
        const stderr = rendered.stderr.trim().split("\n").slice(-3).join(" ");
        throw new Error(`helm template failed (${rendered.status ?? "not run"}): ${stderr}`);
      }
      const extracted = extractImages(rendered.stdout);
      problems.push(...extracted.problems.map((problem) => `${job.addon} (${job.variant}): ${problem}`));
      const images = uniqueImages(extracted.uses).length;
      extracted.uses.forEach((use) => addonOf.set(use, job.addon));
      uses.push(...extracted.uses);
      renders.push({ ...outcome, images });
    } catch (error) {
      renders.push({ ...outcome, images: 0, error: (error as Error).message });
    }
  }
  const images = uniqueImages(uses).map((image) => ({
    ...image,
    addons: [...new Set(image.uses.map((use) => addonOf.get(use) as string))].sort(),
  }));
  return { renders, problems, images };
}

function scanImage(
  image: UniqueImage & { addons: string[] },
  options: GateOptions,
  run: CommandRunner,
): ImageVerdict {
  const trivy = options.trivy ?? "trivy";
  const verdict = { reference: image.reference, addons: image.addons, floating: image.floating };
  const base = join(options.workDir, fileSafe(image.reference));
  const jsonFile = `${base}.json`;
  const scan = run(trivy, trivyImageArgs(image.reference, jsonFile, options.ignoreFile));
  let findings: Finding[] = [];
  if (existsSync(jsonFile)) {
    try {
      findings = findingsFromReport(JSON.parse(readFileSync(jsonFile, "utf8")));
    } catch {
      return { ...verdict, status: "error", findings, detail: "unreadable Trivy report" };
    }
  }
  if (scan.status === 0) return { ...verdict, status: "pass", findings };
  // Exit 1 with findings is the verdict we asked for; exit 1 without findings is Trivy failing to scan.
  if (scan.status === 1 && findings.length > 0) {
    run(trivy, ["convert", "--format", "sarif", "--output", `${base}.sarif`, jsonFile]);
    return { ...verdict, status: "vulnerable", findings };
  }
  const detail = `trivy exited ${scan.status ?? "without running"}: ${scan.stderr.trim().split("\n").slice(-2).join(" ")}`;
  return { ...verdict, status: "error", findings, detail };
}

export function runGate(options: GateOptions): GateReport {
  const run = options.run ?? spawnRunner;
  const rendered = renderImages(options.jobs, options.workDir, options.helm, run);
  const images = rendered.images.map((image) => scanImage(image, options, run));
  const passed =
    rendered.renders.every((render) => render.error === undefined) &&
    rendered.problems.length === 0 &&
    images.every((image) => image.status === "pass");
  return { renders: rendered.renders, images, problems: rendered.problems, passed };
}

/** SARIF of every vulnerable image as one run, or an empty Trivy run so the upload clears old alerts. */
export function gateSarif(report: GateReport, workDir: string): SarifLog {
  const logs = report.images
    .filter((image) => image.status === "vulnerable")
    .map((image) => join(workDir, `${fileSafe(image.reference)}.sarif`))
    .filter((file) => existsSync(file))
    .map((file) => JSON.parse(readFileSync(file, "utf8")) as SarifLog);
  if (logs.length === 0) {
    return {
      version: "2.1.0",
      $schema: "https://json.schemastore.org/sarif-2.1.0.json",
      runs: [{ tool: { driver: { name: "Trivy", rules: [] } }, results: [] }],
    };
  }
  return mergeSarif(logs);
}

export function writeGateSarif(report: GateReport, workDir: string, file: string): void {
  writeFileSync(file, `${JSON.stringify(gateSarif(report, workDir), null, 2)}\n`);
}

const statusIcon = { pass: "✅ pass", vulnerable: "❌ vulnerable", error: "⚠️ not scanned" } as const;

/** Markdown for the job summary: verdict first, then what was rendered and each image's result. */
export function gateMarkdown(report: GateReport): string {
  const lines = [`### Trivy image gate: ${report.passed ? "✅ passed" : "❌ failed"}`, ""];
  lines.push(
    `Severity ${GATE_SEVERITY}, fixable findings only; accepted findings come from \`.trivyignore.yaml\`.`,
    "",
  );
  lines.push("| Add-on | Values | Chart | Images | Render |", "|---|---|---|---|---|");
  for (const render of report.renders) {
    lines.push(
      `| ${render.addon} | ${render.variant} | \`${render.chart}\` | ${render.images} | ${render.error ? `❌ ${render.error}` : "ok"} |`,
    );
  }
  lines.push("", "| Image | Add-ons | Verdict | Findings |", "|---|---|---|---|");
  for (const image of report.images) {
    const counts = ["CRITICAL", "HIGH"].map(
      (level) => `${image.findings.filter((f) => f.severity === level).length} ${level}`,
    );
    const ids = image.findings.slice(0, 5).map((f) => `${f.id} (${f.pkg} ${f.installed}→${f.fixed})`);
    const more = image.findings.length > 5 ? ` +${image.findings.length - 5} more` : "";
    const findings =
      image.status === "error"
        ? (image.detail ?? "")
        : image.findings.length
          ? `${counts.join(", ")}: ${ids.join(", ")}${more}`
          : "none";
    const floating = image.floating ? " (untagged: floating `latest`)" : "";
    lines.push(
      `| \`${image.reference}\`${floating} | ${image.addons.join(", ")} | ${statusIcon[image.status]} | ${findings} |`,
    );
  }
  if (report.problems.length > 0)
    lines.push("", "**Render problems**", "", ...report.problems.map((problem) => `- ${problem}`));
  return `${lines.join("\n")}\n`;
}
