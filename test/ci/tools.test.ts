import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { externalTools, missingToolReason, quickStartToolsLine, runningInCi } from "../support/tools";

/**
 * The external tools rule (test/tools.json): on a machine without a tool, the tests that need it skip with the reason
 * and the install line, and nothing fails; with CI set, they fail. Checked by running the suite's own tool-using test
 * files in a child mocha with the tools taken off PATH.
 */
const root = path.resolve(__dirname, "..", "..");
const mocha = path.join(root, "node_modules", "mocha", "bin", "mocha.js");

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "fixtures" ? [] : testFiles(file);
    return entry.name.endsWith(".test.ts") ? [file] : [];
  });
}

/** Test files that call requireTool(…, "<tool>") for one of the tools. */
function filesNeeding(tools: readonly string[]): string[] {
  return testFiles(path.join(root, "test")).filter((file) => {
    const source = readFileSync(file, "utf8");
    return tools.some((tool) => source.includes(`requireTool(this, "${tool}")`));
  });
}

/** PATH as it is, except that every directory holding one of `commands` is replaced by a copy of symlinks without them. */
function pathWithout(commands: readonly string[], scratch: string): string {
  return (process.env.PATH ?? "")
    .split(path.delimiter)
    .filter((dir) => dir !== "")
    .map((dir, index) => {
      if (!commands.some((command) => existsSync(path.join(dir, command)))) return dir;
      const shadow = path.join(scratch, `path-${index}`);
      mkdirSync(shadow);
      for (const name of readdirSync(dir)) {
        if (!commands.includes(name)) symlinkSync(path.join(dir, name), path.join(shadow, name));
      }
      return shadow;
    })
    .join(path.delimiter);
}

interface MochaReport {
  stats: { passes: number; pending: number; failures: number };
  pending: { fullTitle: string }[];
  failures: { fullTitle: string; err: { message: string } }[];
}

function runMocha(files: string[], options: { without: string[]; ci: boolean; grep: string }): MochaReport {
  const scratch = mkdtempSync(path.join(tmpdir(), "tools-check-"));
  try {
    const report = path.join(scratch, "report.json");
    const env: NodeJS.ProcessEnv = { ...process.env, PATH: pathWithout(options.without, scratch) };
    if (options.ci) env.CI = "true";
    else delete env.CI;
    const result = spawnSync(
      process.execPath,
      [
        mocha,
        "--no-config",
        "--require",
        "ts-node/register/transpile-only",
        "--timeout",
        "60000",
        "--grep",
        options.grep,
        "--reporter",
        "json",
        "--reporter-option",
        `output=${report}`,
        ...files,
      ],
      { cwd: root, env, encoding: "utf8" },
    );
    assert.ok(existsSync(report), `mocha wrote no report:\n${result.stdout}${result.stderr}`);
    return JSON.parse(readFileSync(report, "utf8")) as MochaReport;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

const names = externalTools.map((tool) => tool.name);

describe("external test tools (test/tools.json)", function () {
  this.timeout(120_000);

  it("without any of them and without CI: their tests skip, each saying which tool and how to install it, and none fails; the README's count is right", () => {
    const report = runMocha(filesNeeding(names), { without: names, ci: false, grep: names.join("|") });
    assert.equal(report.stats.failures, 0, JSON.stringify(report.failures, null, 2));
    assert.ok(report.stats.pending > 0);
    for (const { fullTitle } of report.pending) {
      const tool = names.find((name) => fullTitle.includes(`skipped: ${missingToolReason(name as never)}`));
      assert.ok(tool, `no reason and install line in the skipped test "${fullTitle}"`);
    }
    for (const name of names) {
      assert.ok(
        report.pending.some(({ fullTitle }) => fullTitle.includes(`skipped: ${name} not installed`)),
        `no test skipped for lack of ${name}: is it still needed?`,
      );
    }
    const readme = readFileSync(path.join(root, "README.md"), "utf8");
    assert.ok(
      readme.includes(quickStartToolsLine(report.stats.pending)),
      `the README's quick start should say:\n${quickStartToolsLine(report.stats.pending)}`,
    );
  });

  it("with CI set, a missing moto_server fails the tests that need it, naming the install line", () => {
    const report = runMocha(filesNeeding(["moto_server"]), {
      without: ["moto_server"],
      ci: true,
      grep: "moto_server",
    });
    assert.ok(report.stats.failures >= 2, "the live check's suite and the teardown's leftovers test");
    assert.equal(report.stats.passes, 0);
    for (const failure of report.failures) {
      assert.match(failure.err.message, /moto_server not installed; pip install "moto\[server\]==[\d.]+"/);
    }
  });

  it("reads CI=true (any non-empty value) as CI, and CI=false, 0 or empty as not CI", () => {
    for (const value of ["true", "1", "yes", "TRUE"]) assert.equal(runningInCi({ CI: value }), true, value);
    for (const value of [undefined, "", "false", "FALSE", "0", " false "])
      assert.equal(runningInCi({ CI: value }), false, String(value));
  });

  it("pins in the workflows agree with the list", () => {
    const workflows = path.join(root, ".github", "workflows");
    for (const file of readdirSync(workflows)) {
      const text = readFileSync(path.join(workflows, file), "utf8");
      for (const match of text.matchAll(/moto\[server\]==([\d.]+)/g)) {
        assert.equal(match[1], externalTools.find((tool) => tool.name === "moto_server")?.version, file);
      }
    }
  });
});
