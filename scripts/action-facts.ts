import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { parse } from "yaml";
import {
  ActionInputs,
  ActionTagRow,
  ActionTagTable,
  actionFactFile,
  actionTagTableFile,
  upstreamDir,
} from "../test/upstream";

/**
 * Re-reads one GitHub Action at a tag and rewrites its vendored facts under test/fixtures/upstream/: the input
 * names, required flags and defaults of its action.yml at the tag's commit (`<owner>-<repo>[-<path>]-<tag>.inputs.json`)
 * and its row in the tag → commit table (`github-actions.tags.json`). Run it after Renovate moves a pin:
 *
 *   git clone --bare https://github.com/actions/checkout /tmp/checkout.git
 *   npx ts-node --transpile-only scripts/action-facts.ts --git-dir /tmp/checkout.git --action actions/checkout --tag v7.0.1
 *
 * The commit is resolved from the tag in that clone, never typed by hand, so the table only holds commits the tag
 * really points to. The workflow tests then check every pin and every `with:` key against these files.
 */

const usage = `usage: scripts/action-facts.ts --git-dir DIR --action OWNER/REPO[/PATH] --tag TAG [--date YYYY-MM-DD]

Writes test/fixtures/upstream/<owner>-<repo>[-<path>]-<tag>.inputs.json (the action's inputs and runs.using at the
tag's commit) and the tag's row of test/fixtures/upstream/github-actions.tags.json.

examples:
  npx ts-node --transpile-only scripts/action-facts.ts --git-dir /tmp/checkout.git --action actions/checkout --tag v7.0.1`;

function git(gitDir: string, ...args: string[]): string {
  return execFileSync("git", ["--git-dir", gitDir, ...args], { encoding: "utf8" });
}

/** Our own extraction of an action.yml: input names with their required flag, default and deprecation. */
export function extractInputs(actionYml: string): ActionInputs["inputs"] {
  const document = parse(actionYml) as { inputs?: Record<string, Record<string, unknown> | null> };
  const inputs: ActionInputs["inputs"] = {};
  for (const [name, spec] of Object.entries(document.inputs ?? {})) {
    const required = spec?.required === true || spec?.required === "true";
    inputs[name] = {
      required,
      ...(spec?.default !== undefined ? { default: String(spec.default) } : {}),
      ...(spec?.deprecationMessage !== undefined ? { deprecated: true } : {}),
    };
  }
  return inputs;
}

function runsUsing(actionYml: string): string {
  const document = parse(actionYml) as { runs?: { using?: string } };
  return String(document.runs?.using ?? "unknown");
}

function main(argv: string[]): void {
  const { values } = parseArgs({
    args: argv,
    options: {
      "git-dir": { type: "string" },
      action: { type: "string" },
      tag: { type: "string" },
      date: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(usage);
    return;
  }
  const gitDir = values["git-dir"];
  const action = values.action;
  const tag = values.tag;
  if (!gitDir || !action || !tag) throw new Error(usage);
  const [owner, name, ...rest] = action.split("/");
  const repo = `${owner}/${name}`;
  const subdir = rest.join("/");
  const commit = git(gitDir, "rev-parse", `refs/tags/${tag}^{commit}`).trim();
  const tree = git(gitDir, "ls-tree", "--name-only", commit, subdir ? `${subdir}/` : ".").split("\n");
  const file = ["action.yml", "action.yaml"]
    .map((candidate) => (subdir ? `${subdir}/${candidate}` : candidate))
    .find((candidate) => tree.includes(candidate));
  if (!file) throw new Error(`${repo}@${tag}: no action.yml or action.yaml in ${subdir || "the root"}`);
  const text = git(gitDir, "show", `${commit}:${file}`);
  const read = values.date ?? new Date().toISOString().slice(0, 10);

  const fact = {
    source: { repo, path: file, ref: tag, commit, read },
    facts: { action, runs: runsUsing(text), inputs: extractInputs(text) } satisfies ActionInputs,
  };
  const factPath = join(upstreamDir, actionFactFile(action, tag));
  // The inputs of the previous pin of this action go: the tests accept only facts of pins in use.
  for (const file of readdirSync(upstreamDir).filter((name) => name.endsWith(".inputs.json"))) {
    const old = JSON.parse(readFileSync(join(upstreamDir, file), "utf8")) as { facts?: { action?: string } };
    if (old.facts?.action === action) rmSync(join(upstreamDir, file));
  }
  writeFileSync(factPath, `${JSON.stringify(fact, null, 2)}\n`);

  const tablePath = join(upstreamDir, actionTagTableFile);
  const table = JSON.parse(readFileSync(tablePath, "utf8")) as ActionTagTable;
  const row: ActionTagRow = { repo, tag, commit };
  // One row per repository, as the workflows pin one commit per action (several paths of one repository share it).
  const rows = [...table.tags.filter((existing) => existing.repo !== repo), row];
  rows.sort((a, b) => a.repo.localeCompare(b.repo));
  writeFileSync(tablePath, `${JSON.stringify({ ...table, tags: rows }, null, 2)}\n`);
  console.log(`${action}@${tag} = ${commit}: wrote ${factPath} and ${tablePath}`);
}

if (require.main === module) {
  try {
    main(process.argv.slice(2));
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
    process.exitCode = 1;
  }
}
