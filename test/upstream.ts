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
