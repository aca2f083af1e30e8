import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import * as path from "node:path";

/** One external program some tests call, as listed in test/tools.json. */
export interface ExternalTool {
  readonly name: string;
  /** The version the tests were written and run against. */
  readonly version: string;
  /** Command that exits 0 when the tool is installed and usable. */
  readonly probe: readonly string[];
  /** Shell command printing the installed version (.ci/run). */
  readonly versionCommand: string;
  /** Debian package or pip requirement .ci/run installs. */
  readonly apt?: string;
  readonly pip?: string;
  /** The line a developer runs to get it. */
  readonly install: string;
  /** What the tests that need it check. */
  readonly enables: string;
}

export const toolsFile = path.join(__dirname, "..", "tools.json");

export const externalTools: readonly ExternalTool[] = (
  JSON.parse(readFileSync(toolsFile, "utf8")) as { tools: ExternalTool[] }
).tools;

export type ToolName = "shellcheck" | "yamllint" | "jq" | "moto_server";

export function externalTool(name: ToolName): ExternalTool {
  const tool = externalTools.find((entry) => entry.name === name);
  if (!tool) throw new Error(`${name} is not listed in ${toolsFile}`);
  return tool;
}

const availability = new Map<string, boolean>();

/** Whether the tool runs here (probed once per process, on this process's PATH). */
export function toolAvailable(name: ToolName): boolean {
  let available = availability.get(name);
  if (available === undefined) {
    const [command, ...args] = externalTool(name).probe;
    available = spawnSync(command, args, { stdio: "ignore" }).status === 0;
    availability.set(name, available);
  }
  return available;
}

/** The words a skipped test carries, and a CI failure gives: which tool, and how to install it. */
export function missingToolReason(name: ToolName): string {
  const tool = externalTool(name);
  return `${name} not installed; ${tool.install}, tested with ${tool.version}`;
}

/** CI providers set `CI=true`; a user who writes `CI=false` (or 0, or empty) means "not CI" and gets skips. */
export function runningInCi(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = (env.CI ?? "").trim().toLowerCase();
  return value !== "" && value !== "false" && value !== "0";
}

/**
 * Call first in a test or a `before` hook that needs the tool. Installed: returns. Missing outside CI: skips, with
 * the reason and the install line in every skipped test's title. Missing with CI set: fails, because CI installs
 * every tool (.ci/run) and a check that silently did not run must not pass there.
 */
export function requireTool(context: Mocha.Context, name: ToolName): void {
  const runnable = context.test;
  if (!runnable) throw new Error("requireTool(this, …) belongs in a test or hook function");
  // Mocha sets `type` on hooks and tests alike; its typings only declare it on Test.
  const suite = (runnable as { type?: string }).type === "hook" ? runnable.parent : undefined;
  // The tool's name in the title shows the dependency in every report, and lets test/ci/tools.test.ts select exactly
  // these tests with --grep to count what a machine without the tools skips.
  const title = suite ? suite.fullTitle() : runnable.fullTitle();
  if (!title.includes(name)) throw new Error(`name ${name} in the title of "${title}": it needs that tool`);
  if (toolAvailable(name)) return;
  const reason = missingToolReason(name);
  if (runningInCi()) assert.fail(reason);
  if (suite) {
    // A `before` hook skips its whole suite: say why on each test it skips.
    const mark = (parent: Mocha.Suite): void => {
      for (const test of parent.tests) test.title += ` (skipped: ${reason})`;
      parent.suites.forEach(mark);
    };
    mark(suite);
  } else {
    runnable.title += ` (skipped: ${reason})`;
  }
  context.skip();
}

/** The README quick start's line about the optional tools, with the number of tests a machine without them skips. */
export function quickStartToolsLine(skipped: number): string {
  const apt = externalTools.filter((tool) => tool.apt);
  const pip = externalTools.filter((tool) => tool.pip);
  const list = [
    `${apt.map((tool) => tool.name).join(", ")} (\`apt-get install ${apt.map((tool) => tool.apt).join(" ")}\`)`,
    ...pip.map((tool) => `${tool.name} (\`${tool.install}\`)`),
  ];
  return `Optional: ${list.join(" and ")}; without them ${skipped} tests are skipped and say why.`;
}
