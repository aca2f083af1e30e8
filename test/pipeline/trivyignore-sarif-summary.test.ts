import { strict as assert } from "node:assert";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { mergeSarif, SarifLog } from "../../pipeline/sarif";
import { summarizeOutDir, synthMarkdown } from "../../pipeline/synth-summary";
import { checkIgnoreFile } from "../../pipeline/trivyignore";
import { utcToday } from "../../pipeline/expiry";

const today = "2026-11-25";

describe("pipeline/trivyignore: accepted findings need a reason and an expiry", () => {
  it("accepts entries with id, statement and expired_at within a year", () => {
    const check = checkIgnoreFile(
      "vulnerabilities:\n  - id: CVE-2026-1\n    statement: Not reachable, the server never enables HTTP/2 push.\n    expired_at: 2027-01-31\n",
      today,
    );
    assert.deepEqual(check, { errors: [], expired: [], entries: 1 });
  });

  it("rejects entries without a statement or an expiry, or with an open-ended date", () => {
    const check = checkIgnoreFile(
      [
        "vulnerabilities:",
        "  - id: CVE-2026-1",
        "  - id: CVE-2026-2",
        "    statement: ok",
        "    expired_at: 2027-13-01",
        "misconfigurations:",
        "  - id: KSV-0014",
        "    statement: Accepted until the upstream chart lets us set readOnlyRootFilesystem.",
        "    expired_at: 2030-01-01",
        "secret:",
        "  - id: x",
      ].join("\n"),
      today,
    );
    assert.deepEqual(check.errors, [
      'unknown section "secret" (Trivy reads vulnerabilities, misconfigurations, secrets, licenses)',
      "vulnerabilities[0] CVE-2026-1: missing statement (why the finding is accepted, at least a sentence)",
      "vulnerabilities[0] CVE-2026-1: missing or invalid expired_at (YYYY-MM-DD)",
      "vulnerabilities[1] CVE-2026-2: missing statement (why the finding is accepted, at least a sentence)",
      "vulnerabilities[1] CVE-2026-2: missing or invalid expired_at (YYYY-MM-DD)",
      "misconfigurations[0] KSV-0014: expired_at 2030-01-01 is more than 365 days away",
    ]);
  });

  it("lists entries past their date so they get removed or renewed", () => {
    const check = checkIgnoreFile(
      "vulnerabilities:\n  - id: CVE-2026-1\n    statement: Accepted while the fix was being released.\n    expired_at: 2026-11-01\n",
      today,
    );
    assert.deepEqual(check.errors, []);
    assert.deepEqual(check.expired, ["vulnerabilities[0] CVE-2026-1: expired on 2026-11-01"]);
  });

  it("this repository's .trivyignore.yaml follows the rules", () => {
    const check = checkIgnoreFile(
      readFileSync(join(__dirname, "..", "..", ".trivyignore.yaml"), "utf8"),
      utcToday(),
    );
    assert.deepEqual(check.errors, []);
  });
});

describe("pipeline/sarif: one run per upload", () => {
  const log = (rules: string[], results: { ruleIndex: number; text: string }[]): SarifLog => ({
    version: "2.1.0",
    runs: [
      {
        tool: { driver: { name: "Trivy", rules: rules.map((id) => ({ id })) } },
        results: results.map((result) => ({ ruleIndex: result.ruleIndex, message: { text: result.text } })),
      },
    ],
  });

  it("merges per-image runs, deduplicating rules and re-pointing each result's ruleIndex", () => {
    const merged = mergeSarif([
      log(["CVE-A", "CVE-B"], [{ ruleIndex: 1, text: "b in image 1" }]),
      log(
        ["CVE-B", "CVE-C"],
        [
          { ruleIndex: 0, text: "b in image 2" },
          { ruleIndex: 1, text: "c in image 2" },
        ],
      ),
    ]);
    assert.equal(merged.runs.length, 1);
    const rules = merged.runs[0].tool.driver.rules ?? [];
    assert.deepEqual(
      rules.map((rule) => rule.id),
      ["CVE-A", "CVE-B", "CVE-C"],
    );
    assert.deepEqual(
      (merged.runs[0].results ?? []).map((result) => [
        rules[result.ruleIndex as number].id,
        (result.message as { text: string }).text,
      ]),
      [
        ["CVE-B", "b in image 1"],
        ["CVE-B", "b in image 2"],
        ["CVE-C", "c in image 2"],
      ],
    );
  });

  it("refuses to merge runs of different tools", () => {
    const other = log([], []);
    other.runs[0].tool.driver.name = "Grype";
    assert.throws(() => mergeSarif([log([], []), other]), /different tools/);
  });
});

describe("pipeline/synth-summary: the ci job summary", () => {
  it("counts custom resources and policy violations per stack from out/<stack>/", () => {
    const out = mkdtempSync(join(tmpdir(), "synth-"));
    try {
      for (const stack of ["dev", "prod", "broken", "odd"]) mkdirSync(join(out, stack));
      const resources = (types: string[]) =>
        JSON.stringify({
          resources: [
            { type: "pulumi:pulumi:Stack", custom: false },
            ...types.map((type) => ({ type, custom: true })),
          ],
        });
      writeFileSync(
        join(out, "dev", "resources.json"),
        resources(["aws:ec2/vpc:Vpc", "aws:ec2/vpc:Vpc", "aws:eks/cluster:Cluster"]),
      );
      writeFileSync(
        join(out, "dev", "policy-report.json"),
        JSON.stringify({
          stack: "dev",
          mandatoryCount: 1,
          advisoryCount: 1,
          passed: [],
          violations: [
            {
              policy: "eks-private-endpoint",
              enforcementLevel: "mandatory",
              message: "public endpoint | open\nmore",
              urn: "urn:pulumi:dev::eks-gitops-platform::platform:Cluster$aws:eks/cluster:Cluster::main",
            },
            { policy: "tags", enforcementLevel: "advisory", message: "missing owner" },
          ],
        }),
      );
      writeFileSync(join(out, "prod", "resources.json"), resources(["aws:ec2/vpc:Vpc"]));
      writeFileSync(join(out, "broken", "resources.json"), "{not json");
      writeFileSync(join(out, "odd", "resources.json"), resources([]));
      writeFileSync(join(out, "odd", "policy-report.json"), JSON.stringify({ results: [] }));
      const summaries = summarizeOutDir(out);
      assert.deepEqual(
        summaries.map(({ stack, resources: count, types, report, error }) => [
          stack,
          count,
          types,
          report?.violations.length,
          Boolean(error),
        ]),
        [
          ["broken", undefined, undefined, undefined, true],
          ["dev", 3, 2, 2, false],
          ["odd", undefined, undefined, undefined, true],
          ["prod", 1, 1, undefined, false],
        ],
      );
      const markdown = synthMarkdown(summaries);
      assert.match(markdown, /\| dev \| 3 \| 2 \| ❌ 1 \| 1 \|/);
      assert.match(markdown, /\| prod \| 1 \| 1 \| no report \| no report \|/);
      assert.match(
        markdown,
        /\| dev \| mandatory \| eks-private-endpoint \| main \(aws:eks\/cluster:Cluster\) \| public endpoint \\\| open \|/,
      );
      assert.match(markdown, /\| odd \| ⚠️ policy-report.json is not a policy report/);
      assert.match(markdown, /\| broken \| ⚠️ /);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
