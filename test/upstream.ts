import * as fs from "node:fs";
import * as path from "node:path";

/** Where an upstream fact was read: repository, file, the pinned ref, the exact commit and the day. */
export interface UpstreamSource {
  readonly repo: string;
  readonly path: string;
  readonly ref: string;
  readonly commit: string;
  readonly read: string;
}

export interface UpstreamFact<T> {
  readonly source: UpstreamSource;
  readonly facts: T;
}

export const upstreamDir = path.join(__dirname, "fixtures", "upstream");

/**
 * Loads `test/fixtures/upstream/<file>` (see its README). A fact without a complete source is an error: a test
 * that leans on an upstream fact must say where and when it was read, so a version bump can be checked.
 */
export function upstreamFact<T>(file: string): UpstreamFact<T> {
  const full = path.join(upstreamDir, file);
  const parsed = JSON.parse(fs.readFileSync(full, "utf8")) as Partial<UpstreamFact<T>>;
  const source = parsed.source;
  const problems: string[] = [];
  if (!source) problems.push("no source");
  else {
    for (const key of ["repo", "path", "ref"] as const) {
      if (typeof source[key] !== "string" || source[key].length === 0)
        problems.push(`source.${key} is empty`);
    }
    if (!/^[0-9a-f]{40}$/.test(source.commit ?? "")) problems.push("source.commit is not a 40-hex commit");
    if (!/^\d{4}-\d{2}-\d{2}$/.test(source.read ?? "")) problems.push("source.read is not a YYYY-MM-DD date");
  }
  if (parsed.facts === undefined) problems.push("no facts");
  if (problems.length > 0) throw new Error(`${full}: ${problems.join("; ")}`);
  return parsed as UpstreamFact<T>;
}

/** Facts of one GitHub Action's `action.yml` (file `<owner>-<repo>[-<path>]-<tag>.inputs.json`). */
export interface ActionInputs {
  /** `owner/repo` or `owner/repo/path`, exactly as a workflow's `uses:` names it before the `@`. */
  readonly action: string;
  /** `runs.using` (node24, composite, docker). */
  readonly runs: string;
  readonly inputs: Record<string, { required: boolean; default?: string; deprecated?: boolean }>;
}

/** The fact file of an action at a tag: `actions/checkout` v7.0.1 → `actions-checkout-v7.0.1.inputs.json`. */
export function actionFactFile(action: string, tag: string): string {
  return `${action.toLowerCase().replace(/\//g, "-")}-${tag}.inputs.json`;
}

/**
 * The tag → commit table of every action the workflows pin (one row per repository), each row read from the
 * repository itself (`git rev-parse refs/tags/<tag>^{commit}`). Renovate rewrites a row in the same pull request
 * that moves the pin (renovate.json), so a pin that is not in this table was never published under its tag.
 */
export interface ActionTagRow {
  readonly repo: string;
  readonly tag: string;
  readonly commit: string;
}
export interface ActionTagTable {
  readonly about: string;
  readonly tags: ActionTagRow[];
}
export const actionTagTableFile = "github-actions.tags.json";

/** Loads the tag table, refusing a row without a repository, a tag or a 40-hex commit. */
export function actionTagTable(): ActionTagTable {
  const full = path.join(upstreamDir, actionTagTableFile);
  const table = JSON.parse(fs.readFileSync(full, "utf8")) as ActionTagTable;
  const problems = (table.tags ?? []).flatMap((row, index) => [
    ...(/^[\w.-]+\/[\w.-]+$/.test(row.repo ?? "") ? [] : [`row ${index}: repo ${JSON.stringify(row.repo)}`]),
    ...(typeof row.tag === "string" && row.tag.length > 0 ? [] : [`row ${index}: empty tag`]),
    ...(/^[0-9a-f]{40}$/.test(row.commit ?? "") ? [] : [`row ${index}: commit is not 40-hex`]),
  ]);
  if (!Array.isArray(table.tags) || table.tags.length === 0) problems.push("no tags");
  if (problems.length > 0) throw new Error(`${full}: ${problems.join("; ")}`);
  return table;
}
