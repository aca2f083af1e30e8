import { strict as assert } from "node:assert";
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { applicationSetSelects, renderJobsForStacks, selectorMatches } from "../../pipeline/addons";
import { main } from "../../pipeline/cli";
import { findingsFromReport, gateMarkdown, runGate, trivyImageArgs } from "../../pipeline/gate";
import { chartReference, helmTemplateArgs, RenderJob } from "../../pipeline/render";
import { discoverStacks, readProjectName } from "../../pipeline/stacks";

const fixtureRepo = join(__dirname, "..", "fixtures", "pipeline", "repo");

/** A scratch copy of the fixture repository with the fake helm/trivy first on PATH. */
function scratchRepo(): { root: string; logs: { helm: string; trivy: string }; cleanup: () => void } {
  const root = mkdtempSync(join(tmpdir(), "gate-"));
  cpSync(fixtureRepo, root, { recursive: true });
  for (const tool of ["helm", "trivy"]) chmodSync(join(root, "bin", tool), 0o755);
  const saved = {
    PATH: process.env.PATH,
    FAKE_HELM_LOG: process.env.FAKE_HELM_LOG,
    FAKE_TRIVY_LOG: process.env.FAKE_TRIVY_LOG,
  };
  const logs = { helm: join(root, "helm.log"), trivy: join(root, "trivy.log") };
  process.env.PATH = `${join(root, "bin")}:${process.env.PATH}`;
  process.env.FAKE_HELM_LOG = logs.helm;
  process.env.FAKE_TRIVY_LOG = logs.trivy;
  return {
    root,
    logs,
    cleanup: () => {
      for (const [key, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
}

function quietly<T>(action: () => T): { result: T; output: string } {
  const original = console.log;
  const lines: string[] = [];
  console.log = (...args: unknown[]) => lines.push(args.join(" "));
  try {
    return { result: action(), output: lines.join("\n") };
  } finally {
    console.log = original;
  }
}

describe("pipeline/addons: which charts the gate renders", () => {
  it("follows each stack's cluster-Secret labels: karpenter only where compute mode is karpenter, falco only where on", () => {
    const { selected } = renderJobsForStacks(
      discoverStacks(fixtureRepo),
      join(fixtureRepo, "addons"),
      "eks-gitops-platform",
    );
    assert.deepEqual(selected, {
      dev: ["falco"],
      prod: ["falco"],
      "sandbox-alice": [],
      staging: ["falco", "karpenter"],
    });
  });

  it("renders identical charts once and keeps renders whose values differ (prod's environment layer)", () => {
    const { jobs } = renderJobsForStacks(
      discoverStacks(fixtureRepo),
      join(fixtureRepo, "addons"),
      "eks-gitops-platform",
    );
    assert.deepEqual(
      jobs.map((job) => `${job.addon} ${job.variant}`),
      ["falco dev, staging", "falco prod", "karpenter staging"],
    );
    const prod = jobs.find((job) => job.variant === "prod");
    assert.equal(prod?.values?.extraImage, "ghcr.io/acme/falco-exporter:0.9.0");
    assert.deepEqual(prod?.values?.driver, { kind: "modern_ebpf" });
    const karpenter = jobs.find((job) => job.addon === "karpenter");
    assert.deepEqual(karpenter?.values?.settings, { clusterName: "image-gate" });
    assert.deepEqual(karpenter?.coordinates, {
      repo: "public.ecr.aws/karpenter",
      chart: "karpenter",
      version: "1.14.1",
      namespace: "kube-system",
      releaseName: "karpenter",
    });
  });

  it("resolves every chart this repository's stacks enable to an exact, renderable version", function () {
    const root = join(__dirname, "..", "..");
    const stacks = discoverStacks(root);
    if (stacks.length === 0) this.skip(); // no Pulumi.<stack>.yaml committed yet
    const { jobs, selected } = renderJobsForStacks(stacks, join(root, "addons"), readProjectName(root));
    assert.ok(jobs.length > 0, `no stack enables a chart: ${JSON.stringify(selected)}`);
    for (const job of jobs) assert.doesNotThrow(() => helmTemplateArgs(job), `${job.addon} (${job.variant})`);
  });

  it("implements label-selector semantics for matchLabels and matchExpressions", () => {
    const labels = { environment: "prod", enable_falco: "true" };
    assert.equal(selectorMatches({ matchLabels: { enable_falco: "true" } }, labels), true);
    assert.equal(selectorMatches({ matchLabels: { enable_falco: "false" } }, labels), false);
    assert.equal(
      selectorMatches(
        { matchExpressions: [{ key: "environment", operator: "In", values: ["dev", "prod"] }] },
        labels,
      ),
      true,
    );
    assert.equal(
      selectorMatches(
        { matchExpressions: [{ key: "environment", operator: "NotIn", values: ["prod"] }] },
        labels,
      ),
      false,
    );
    assert.equal(
      selectorMatches({ matchExpressions: [{ key: "compute_mode", operator: "DoesNotExist" }] }, labels),
      true,
    );
    assert.equal(
      applicationSetSelects({ spec: { generators: [{ list: { elements: [] } }] } }, labels),
      false,
    );
  });
});

describe("pipeline/render + gate: the commands the gate runs", () => {
  const job: RenderJob = {
    addon: "karpenter",
    variant: "staging",
    coordinates: {
      repo: "public.ecr.aws/karpenter",
      chart: "karpenter",
      version: "1.14.1",
      namespace: "kube-system",
    },
    valuesFiles: ["a.yaml"],
  };

  it("renders OCI charts by oci:// reference and HTTP charts with --repo, always an exact version, tests skipped", () => {
    assert.deepEqual(helmTemplateArgs(job, ["merged.json"]), [
      "template",
      "karpenter",
      "oci://public.ecr.aws/karpenter/karpenter",
      "--version",
      "1.14.1",
      "--namespace",
      "kube-system",
      "--skip-tests",
      "--values",
      "a.yaml",
      "--values",
      "merged.json",
    ]);
    const http = {
      ...job,
      coordinates: { repo: "https://charts.example.com", chart: "falco", version: "9.1.0" },
    };
    assert.deepEqual(helmTemplateArgs(http).slice(0, 5), [
      "template",
      "karpenter",
      "falco",
      "--repo",
      "https://charts.example.com",
    ]);
    assert.equal(
      chartReference({ repo: "oci://ghcr.io/x/", chart: "y", version: "1.0.0" }),
      "oci://ghcr.io/x/y",
    );
    assert.throws(
      () => helmTemplateArgs({ ...job, coordinates: { ...job.coordinates, version: "^1.14.0" } }),
      /exact version/,
    );
  });

  it("scans with trivy image --severity HIGH,CRITICAL --ignore-unfixed --exit-code 1 and the ignore file", () => {
    const args = trivyImageArgs("ghcr.io/a/b:1", "out.json", ".trivyignore.yaml");
    assert.deepEqual(args, [
      "image",
      "--severity",
      "HIGH,CRITICAL",
      "--ignore-unfixed",
      "--exit-code",
      "1",
      "--format",
      "json",
      "--output",
      "out.json",
      "--ignorefile",
      ".trivyignore.yaml",
      "ghcr.io/a/b:1",
    ]);
  });

  it("reads findings from a Trivy JSON report", () => {
    const findings = findingsFromReport({
      Results: [
        {
          Target: "x",
          Vulnerabilities: [
            {
              VulnerabilityID: "CVE-1",
              PkgName: "p",
              InstalledVersion: "1",
              FixedVersion: "2",
              Severity: "HIGH",
            },
          ],
        },
        { Target: "y" },
      ],
    });
    assert.deepEqual(findings, [{ id: "CVE-1", severity: "HIGH", pkg: "p", installed: "1", fixed: "2" }]);
    assert.deepEqual(findingsFromReport({}), []);
  });
});

describe("pipeline/gate: end to end with stand-in helm and trivy", () => {
  it("passes the fixture repository, scanning each image once, prod's extra image included", () => {
    const scratch = scratchRepo();
    try {
      const work = join(scratch.root, "work");
      const sarif = join(scratch.root, "images.sarif");
      const summary = join(scratch.root, "summary.md");
      const { result, output } = quietly(() =>
        main(["gate", "--root", scratch.root, "--work-dir", work, "--sarif", sarif, "--summary", summary]),
      );
      assert.equal(result, 0, output);
      const scanned = readFileSync(scratch.logs.trivy, "utf8")
        .trim()
        .split("\n")
        .map((line) => line.split(" ").pop());
      assert.deepEqual(scanned, [
        "docker.io/falcosecurity/falco:0.44.1",
        "docker.io/falcosecurity/falcoctl:0.11.0",
        "ghcr.io/acme/falco-exporter:0.9.0",
        "public.ecr.aws/karpenter/controller@sha256:1111111111111111111111111111111111111111111111111111111111111111",
      ]);
      assert.match(readFileSync(summary, "utf8"), /Trivy image gate: ✅ passed/);
      const log = JSON.parse(readFileSync(sarif, "utf8"));
      assert.equal(log.runs.length, 1);
      assert.deepEqual(log.runs[0].results, [], "an empty run clears earlier alerts");
    } finally {
      scratch.cleanup();
    }
  });

  it("fails a pull request that raises a chart to a version with a fixable critical CVE", () => {
    const scratch = scratchRepo();
    try {
      const file = join(scratch.root, "addons", "falco", "applicationset.yaml");
      writeFileSync(
        file,
        readFileSync(file, "utf8").replace("targetRevision: 1.0.0", "targetRevision: 1.1.0"),
      );
      const work = join(scratch.root, "work");
      const sarif = join(scratch.root, "images.sarif");
      const { result, output } = quietly(() =>
        main(["gate", "--root", scratch.root, "--work-dir", work, "--sarif", sarif]),
      );
      assert.equal(result, 1);
      assert.match(output, /Trivy image gate: ❌ failed/);
      assert.match(
        output,
        /`ghcr.io\/acme\/falco-vulnerable:0.45.0` \| falco \| ❌ vulnerable \| 1 CRITICAL, 0 HIGH: CVE-2026-0001 \(openssl 3.0.1→3.0.9\)/,
      );
      const log = JSON.parse(readFileSync(sarif, "utf8"));
      assert.equal(log.runs.length, 1);
      assert.equal(log.runs[0].results.length, 1);
      assert.equal(log.runs[0].results[0].ruleId, "CVE-2026-0001");
    } finally {
      scratch.cleanup();
    }
  });

  it("fails when a chart cannot be rendered or an image cannot be scanned (no silent pass)", () => {
    const scratch = scratchRepo();
    try {
      const work = join(scratch.root, "work");
      const missing: RenderJob = {
        addon: "ghost",
        variant: "dev",
        coordinates: { repo: "https://charts.example.com", chart: "ghost", version: "0.0.1" },
        valuesFiles: [],
      };
      const unscannable: RenderJob = {
        addon: "extra",
        variant: "dev",
        coordinates: { repo: "https://charts.example.com", chart: "falco", version: "1.0.0" },
        valuesFiles: [],
        values: { extraImage: "ghcr.io/acme/unscannable:1.0" },
      };
      const report = runGate({ jobs: [missing, unscannable], workDir: work });
      assert.equal(report.passed, false);
      assert.match(
        report.renders[0].error ?? "",
        /helm template failed \(1\): Error: chart "ghost" version "0.0.1" not found/,
      );
      const verdict = report.images.find((image) => image.reference.includes("unscannable"));
      assert.equal(verdict?.status, "error");
      assert.match(verdict?.detail ?? "", /unable to find the specified image/);
      assert.match(gateMarkdown(report), /⚠️ not scanned/);
      assert.ok(existsSync(work) && readdirSync(work).some((name) => name.startsWith("values-extra")));
    } finally {
      scratch.cleanup();
    }
  });

  it("prints one chart's images from the `images` command (chart coordinates + values as input)", () => {
    const scratch = scratchRepo();
    try {
      const { result, output } = quietly(() =>
        main([
          "images",
          "--repo",
          "https://charts.example.com",
          "--chart",
          "falco",
          "--version",
          "1.0.0",
          "--work-dir",
          join(scratch.root, "w"),
        ]),
      );
      assert.equal(result, 0);
      assert.deepEqual(output.split("\n"), [
        "docker.io/falcosecurity/falco:0.44.1",
        "docker.io/falcosecurity/falcoctl:0.11.0",
      ]);
    } finally {
      scratch.cleanup();
    }
  });
});
