import { strict as assert } from "node:assert";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import {
  ActionInputs,
  actionFactFile,
  actionTagTable,
  actionTagTableFile,
  ActionTagTable,
  upstreamDir,
  upstreamFact,
} from "../upstream";
import { allSteps, PinnedUse, pinnedUses, root, Step, texts, Workflow } from "./workflow-files";

/**
 * Offline truth for the actions the workflows pin by commit. actionlint checks `with:` keys only for actions it
 * knows by tag; a SHA pin is opaque to it. So each pinned action's inputs are vendored from its `action.yml` at the
 * pinned commit (test/fixtures/upstream/<action>-<tag>.inputs.json), every pin must be the commit its tag points
 * to (the vendored tag table, which Renovate moves with the pin), and every `with:` is checked against the inputs.
 */

function loadInputs(action: string, tag: string): ActionInputs | undefined {
  const file = actionFactFile(action, tag);
  return existsSync(join(upstreamDir, file)) ? upstreamFact<ActionInputs>(file).facts : undefined;
}

/** Problems of the pins in `workflowTexts` against the tag table and the vendored inputs. */
function pinProblems(
  workflowTexts: Record<string, string>,
  table: ActionTagTable,
  inputsOf: (action: string, tag: string) => ActionInputs | undefined = loadInputs,
): string[] {
  const problems: string[] = [];
  for (const use of pinnedUses(workflowTexts)) {
    const where = `${use.file}:${use.line} ${use.action}@${use.commit}`;
    if (!/^[0-9a-f]{40}$/.test(use.commit)) {
      problems.push(`${where}: not pinned to a commit`);
      continue;
    }
    if (!use.tag) {
      problems.push(`${where}: no "# <tag>" comment`);
      continue;
    }
    const row = table.tags.find((candidate) => candidate.repo.toLowerCase() === use.repo.toLowerCase());
    if (!row) problems.push(`${where}: ${use.repo} is not in ${actionTagTableFile}`);
    else if (row.tag !== use.tag || row.commit !== use.commit)
      problems.push(
        `${where} # ${use.tag}: the tag table says ${row.repo} ${row.tag} is ${row.commit}; a commit that its tag does not point to`,
      );
    const inputs = inputsOf(use.action, use.tag);
    if (!inputs)
      problems.push(
        `${where}: no ${actionFactFile(use.action, use.tag)}; vendor its inputs (scripts/action-facts.ts)`,
      );
  }
  return problems;
}

/** Problems of the `with:` of every step that uses a pinned action. */
function inputProblems(
  stepsOf: { label: string; step: Step }[],
  uses: PinnedUse[],
  inputsOf: (action: string, tag: string) => ActionInputs | undefined = loadInputs,
): string[] {
  const problems: string[] = [];
  for (const { label, step } of stepsOf) {
    const match = /^([\w.-]+\/[\w./-]+)@([0-9a-f]{40})$/.exec(step.uses ?? "");
    if (!match) continue;
    const [, action, commit] = match;
    const use = uses.find((candidate) => candidate.action === action && candidate.commit === commit);
    const inputs = use?.tag ? inputsOf(action, use.tag) : undefined;
    if (!inputs) continue; // reported by pinProblems
    const given = Object.keys(step.with ?? {});
    for (const key of given) {
      const spec = inputs.inputs[key];
      if (!spec) problems.push(`${label}: ${action} has no input "${key}"`);
      else if (spec.deprecated) problems.push(`${label}: ${action} input "${key}" is deprecated`);
    }
    for (const [name, spec] of Object.entries(inputs.inputs)) {
      if (spec.required && spec.default === undefined && !given.includes(name))
        problems.push(`${label}: ${action} needs input "${name}" (required, no default)`);
    }
  }
  return problems;
}

describe("workflows: pinned actions against their vendored tag table and inputs", () => {
  const table = actionTagTable();
  const uses = pinnedUses();

  it("finds the pinned actions of every workflow", () => {
    assert.ok(uses.length >= 20, `only ${uses.length} pinned uses`);
    assert.ok(new Set(uses.map((use) => use.repo)).size >= 8);
  });

  it("pins every action to the commit its tag points to upstream, with vendored inputs at that commit", () => {
    assert.deepEqual(pinProblems(texts, table), []);
    for (const use of uses) {
      const fact = upstreamFact<ActionInputs>(actionFactFile(use.action, use.tag as string));
      assert.equal(fact.source.commit, use.commit, `${use.action}: inputs read at another commit`);
      assert.equal(fact.source.ref, use.tag);
      assert.equal(fact.facts.action, use.action);
    }
  });

  it("gives every pinned action only inputs it has, and every required input without a default", () => {
    assert.deepEqual(inputProblems(allSteps(), uses), []);
  });

  it("keeps no stale facts: every table row and inputs file belongs to a pin in use", () => {
    const repos = new Set(uses.map((use) => use.repo.toLowerCase()));
    assert.deepEqual(
      table.tags.filter((row) => !repos.has(row.repo.toLowerCase())).map((row) => row.repo),
      [],
    );
    const used = new Set(uses.map((use) => actionFactFile(use.action, use.tag as string)));
    assert.deepEqual(
      readdirSync(upstreamDir).filter((file) => file.endsWith(".inputs.json") && !used.has(file)),
      [],
    );
  });

  it("catches a commit that is not its tag's, a missing tag table row, a mistyped and a missing input", () => {
    const broken = readFileSync(
      join(__dirname, "..", "fixtures", "pipeline", "workflows", "bad-pins.yml"),
      "utf8",
    );
    const problems = pinProblems({ "bad-pins.yml": broken }, table);
    assert.equal(problems.length, 3, problems.join("\n"));
    assert.match(problems[0], /:9 actions\/checkout@0{40} # v7\.0\.1: the tag table says/);
    assert.match(problems[1], /:11 example\/unknown@.*not in github-actions\.tags\.json/);
    assert.match(problems[2], /:11 example\/unknown@.*no example-unknown-v1\.0\.0\.inputs\.json/);
    const workflow = parse(broken) as Workflow;
    const stepsOf = allSteps({ "bad-pins.yml": workflow });
    assert.deepEqual(inputProblems(stepsOf, pinnedUses({ "bad-pins.yml": broken })), [
      'bad-pins.yml check step 2: aws-actions/configure-aws-credentials has no input "aws-regoin"',
      'bad-pins.yml check step 2: aws-actions/configure-aws-credentials needs input "aws-region" (required, no default)',
    ]);
  });
});

describe("renovate: the tag table moves with the pins", () => {
  const renovate = JSON.parse(readFileSync(join(root, "renovate.json"), "utf8")) as {
    customManagers: {
      managerFilePatterns: string[];
      matchStrings: string[];
      datasourceTemplate?: string;
    }[];
    packageRules: Record<string, unknown>[];
  };
  const tablePath = `test/fixtures/upstream/${actionTagTableFile}`;
  const manager = renovate.customManagers.find((candidate) =>
    candidate.managerFilePatterns.some((pattern) => new RegExp(pattern.slice(1, -1)).test(tablePath)),
  );

  it("has a regex manager for the table that finds every row's repository, tag and commit", () => {
    assert.ok(manager, `no customManagers entry matches ${tablePath}`);
    assert.equal(
      manager.datasourceTemplate,
      "github-tags",
      "the datasource Renovate's github-actions manager uses",
    );
    const text = readFileSync(join(upstreamDir, actionTagTableFile), "utf8");
    const found = manager.matchStrings.flatMap((pattern) =>
      [...text.matchAll(new RegExp(pattern, "g"))].map((match) => match.groups as Record<string, string>),
    );
    assert.deepEqual(
      found.map(({ depName, currentValue, currentDigest }) => ({
        repo: depName,
        tag: currentValue,
        commit: currentDigest,
      })),
      actionTagTable().tags,
    );
  });

  it("puts an action's pin and its table row into one branch (same branch topic for both managers)", () => {
    const rule = renovate.packageRules.find(
      (candidate) =>
        Array.isArray(candidate.matchFileNames) &&
        (candidate.matchFileNames as string[]).includes(tablePath) &&
        typeof candidate.branchTopic === "string",
    );
    assert.ok(rule, "a packageRule with matchFileNames (workflows + table) and a shared branchTopic");
    assert.ok((rule.matchFileNames as string[]).includes(".github/workflows/**"));
    assert.match(String(rule.branchTopic), /depNameSanitized/);
  });
});

/** trivy-action v0.36.0: how its inputs become Trivy settings (action.yaml + entrypoint.sh, vendored). */
interface TrivyActionBehaviour {
  inputEnv: Record<string, { env: string; unlessEqual: string }>;
  sarif: { format: string; keepsSeverityOnlyIf: { input: string; equals: string }; droppedEnv: string };
}

/** The TRIVY_* settings a trivy-action step hands to Trivy, as its scripts compute them, over Trivy's defaults. */
function trivySettings(step: Step): Record<string, string> {
  const behaviour = upstreamFact<TrivyActionBehaviour>(
    "aquasecurity-trivy-action-v0.36.0.sarif-severity.json",
  ).facts;
  const inputs = upstreamFact<ActionInputs>(actionFactFile("aquasecurity/trivy-action", "v0.36.0")).facts
    .inputs;
  const defaults = upstreamFact<{ defaults: Record<string, string> }>(
    "trivy-v0.74.0.report-flags.json",
  ).facts;
  // GitHub hands every input over as a string, the action.yml default standing in for an input not given.
  const input = (name: string) => String(step.with?.[name] ?? inputs[name]?.default ?? "");
  const env: Record<string, string> = { ...defaults.defaults };
  for (const [name, { env: variable, unlessEqual }] of Object.entries(behaviour.inputEnv)) {
    const value = input(name);
    if (value !== "" && value !== unlessEqual) env[variable] = value;
  }
  const { format, keepsSeverityOnlyIf, droppedEnv } = behaviour.sarif;
  if (env.TRIVY_FORMAT === format && input(keepsSeverityOnlyIf.input) !== keepsSeverityOnlyIf.equals)
    env[droppedEnv] = defaults.defaults[droppedEnv];
  return env;
}

describe("security.yml: the settings Trivy really gets from trivy-action", () => {
  const config = allSteps().filter(({ step }) => (step.uses ?? "").startsWith("aquasecurity/trivy-action@"));

  it("uses the trivy-action and Trivy versions the behaviour facts were read at", () => {
    assert.ok(config.length >= 1);
    const tags = pinnedUses().filter((use) => use.repo === "aquasecurity/trivy-action");
    assert.deepEqual([...new Set(tags.map((use) => use.tag))], ["v0.36.0"]);
    assert.match(texts["security.yml"], /TRIVY_VERSION: "v0\.74\.0"/);
  });

  it("fails the config scan on HIGH and CRITICAL only, also with SARIF output (limit-severities-for-sarif)", () => {
    for (const { label, step } of config) {
      const settings = trivySettings(step);
      assert.equal(settings.TRIVY_FORMAT, "sarif", label);
      assert.equal(settings.TRIVY_SEVERITY, "HIGH,CRITICAL", `${label}: Trivy would fail on every severity`);
      assert.equal(settings.TRIVY_EXIT_CODE, "1", `${label}: findings would not fail the job`);
    }
  });

  it("would scan every severity without limit-severities-for-sarif, or with it set to anything but true", () => {
    const [{ step }] = config;
    for (const value of [undefined, false, "yes", "True"]) {
      const withInputs = { ...step.with, "limit-severities-for-sarif": value };
      if (value === undefined) delete withInputs["limit-severities-for-sarif"];
      assert.equal(
        trivySettings({ ...step, with: withInputs }).TRIVY_SEVERITY,
        "UNKNOWN,LOW,MEDIUM,HIGH,CRITICAL",
        String(value),
      );
    }
  });
});
