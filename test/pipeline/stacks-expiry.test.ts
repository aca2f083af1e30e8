import { strict as assert } from "node:assert";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../../pipeline/cli";
import { writeFoundation } from "../support/foundation";
import { dayNumber, decideExpiry, planExpiry, shouldDeploy } from "../../pipeline/expiry";
import {
  discoverStacks,
  missingPolicyConfigs,
  policyConfigProblems,
  parseStackFile,
  stackNameFromFile,
  StackInfo,
} from "../../pipeline/stacks";

const repo = join(__dirname, "..", "fixtures", "pipeline", "repo");
const today = "2026-11-25";

function stack(overrides: Partial<StackInfo>): StackInfo {
  return { name: "dev", file: "Pulumi.dev.yaml", environment: "dev", config: {}, ...overrides };
}

describe("pipeline/stacks: stack discovery", () => {
  it("lists exactly the Pulumi.<stack>.yaml files, sorted, never Pulumi.yaml or backups", () => {
    assert.deepEqual(
      discoverStacks(repo).map((info) => info.name),
      ["dev", "prod", "sandbox-alice", "staging"],
    );
    assert.equal(stackNameFromFile("Pulumi.yaml"), undefined);
    assert.equal(stackNameFromFile("Pulumi.prod.yaml.bak"), undefined);
    assert.equal(stackNameFromFile("Pulumi.dev-eu.1.yml"), "dev-eu.1");
  });

  it("reads environment, expiry (expiresOn, unquoted or quoted), region and this project's config", () => {
    const stacks = Object.fromEntries(discoverStacks(repo).map((info) => [info.name, info]));
    assert.equal(stacks.dev.environment, "dev");
    assert.equal(stacks.dev.expiresOn, "2026-12-31");
    assert.equal(stacks["sandbox-alice"].expiresOn, "2026-11-20");
    assert.deepEqual(stacks["sandbox-alice"].config.addons, { falco: false });
    assert.equal(stacks.staging.region, "eu-west-1");
    assert.deepEqual(stacks.staging.config.compute, { mode: "karpenter" });
    assert.equal(stacks.staging.expiresOn, undefined);
  });

  it("ignores keys of other projects and providers", () => {
    const info = parseStackFile(
      "x",
      "Pulumi.x.yaml",
      "config:\n  other:environment: dev\n  aws:region: us-east-1\n  proj:environment: prod\n",
      "proj",
    );
    assert.deepEqual(info.config, { environment: "prod" });
    assert.equal(info.environment, "prod");
    assert.equal(info.region, "us-east-1");
  });

  it("reads every stack file of this repository, each with an environment", function () {
    const root = join(__dirname, "..", "..");
    const stacks = discoverStacks(root);
    if (stacks.length === 0) this.skip(); // no Pulumi.<stack>.yaml committed yet
    for (const info of stacks) {
      assert.ok(
        ["dev", "staging", "prod"].includes(info.environment ?? ""),
        `${info.file}: environment must be set`,
      );
    }
  });
});

describe("pipeline/cli stacks: the preview matrix", () => {
  let dir: string;
  const quiet = { log: console.log };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "stacks-"));
    writeFileSync(join(dir, "Pulumi.yaml"), "name: proj\nruntime: nodejs\n");
    for (const stack of ["dev", "qa"])
      writeFileSync(
        join(dir, `Pulumi.${stack}.yaml`),
        "config:\n  aws:region: us-east-1\n  proj:environment: dev\n",
      );
    mkdirSync(join(dir, "policies", "config"), { recursive: true });
    writeFileSync(
      join(dir, "policies", "config", "dev.json"),
      '{ "pack-settings": { "environment": "dev" } }\n',
    );
    writeFoundation(dir, "us-east-1");
    console.log = () => undefined;
  });
  afterEach(() => {
    console.log = quiet.log;
    delete process.env.GITHUB_OUTPUT;
    rmSync(dir, { recursive: true, force: true });
  });

  it("fails, naming the file, when a stack has no policies/config/<stack>.json", () => {
    assert.deepEqual(missingPolicyConfigs(dir, discoverStacks(dir)), ["policies/config/qa.json"]);
    assert.throws(
      () => main(["stacks", "--root", dir]),
      (error: Error) =>
        /missing policies\/config\/qa\.json/.test(error.message) && !/dev\.json,/.test(error.message),
    );
  });

  it("lists the stacks and the project name once every stack has its policy config", () => {
    writeFileSync(
      join(dir, "policies", "config", "qa.json"),
      '{ "pack-settings": { "environment": "dev" } }\n',
    );
    process.env.GITHUB_OUTPUT = join(dir, "output");
    assert.equal(main(["stacks", "--root", dir]), 0);
    const lines = readFileSync(join(dir, "output"), "utf8").trim().split("\n");
    assert.deepEqual(lines[0], 'stacks=["dev","qa"]');
    assert.deepEqual(lines[2], "project=proj");
    // Both are dev stacks: both preview on the dev runner of the region's foundation, with its preview role.
    const matrix = JSON.parse(lines[1].replace(/^matrix=/, "")) as { stack: string; runner: string }[];
    assert.deepEqual(
      matrix.map((entry) => `${entry.stack}:${entry.runner}`),
      ["dev:platform-us-east-1-dev-runner", "qa:platform-us-east-1-dev-runner"],
    );
  });

  it("passes for this repository: every stack file has its policy config", () => {
    const root = join(__dirname, "..", "..");
    assert.deepEqual(missingPolicyConfigs(root, discoverStacks(root)), []);
    assert.deepEqual(policyConfigProblems(root, discoverStacks(root)), []);
  });

  it("fails when a stack's policy config names another environment or lowers a rule its environment needs", () => {
    writeFileSync(
      join(dir, "Pulumi.qa.yaml"),
      "config:\n  aws:region: us-east-1\n  proj:environment: prod\n",
    );
    writeFileSync(
      join(dir, "policies", "config", "qa.json"),
      '{ "pack-settings": { "environment": "dev" } }\n',
    );
    assert.deepEqual(policyConfigProblems(dir, discoverStacks(dir)), [
      'policies/config/qa.json: pack-settings.environment is "dev", but Pulumi.qa.yaml says prod; set it to "prod"',
    ]);
    writeFileSync(
      join(dir, "policies", "config", "qa.json"),
      '{ "pack-settings": { "environment": "prod" }, "eks-endpoint-private": { "enforcementLevel": "disabled" } }\n',
    );
    assert.throws(
      () => main(["stacks", "--root", dir]),
      (error: Error) =>
        /policies\/config\/qa\.json: eks-endpoint-private is set to "disabled" in this prod stack/.test(
          error.message,
        ),
    );
  });
});

describe("pipeline/expiry: which dev stacks the expire workflow destroys", () => {
  it("destroys only dev stacks whose last day has passed, and never prod even with a past date", () => {
    const plan = planExpiry(discoverStacks(repo), today);
    assert.deepEqual(plan.destroy, ["sandbox-alice"]);
    const prod = plan.decisions.find((decision) => decision.stack === "prod");
    assert.equal(prod?.action, "keep");
    assert.match(prod?.reason ?? "", /only dev stacks expire/);
  });

  it("treats expiresOn as the last day alive: kept on the day, destroyed the day after", () => {
    assert.equal(decideExpiry(stack({ expiresOn: today }), today).action, "warn");
    assert.equal(decideExpiry(stack({ expiresOn: "2026-11-24" }), today).action, "destroy");
    assert.equal(decideExpiry(stack({ expiresOn: "2026-11-24" }), today).daysLeft, -1);
  });

  it("warns within the warning window and keeps quiet before it", () => {
    assert.equal(decideExpiry(stack({ expiresOn: "2026-11-30" }), today, 5).action, "warn");
    assert.equal(decideExpiry(stack({ expiresOn: "2026-12-01" }), today, 5).action, "keep");
    const plan = planExpiry([stack({ name: "a", expiresOn: "2026-11-27" })], today, 5);
    assert.deepEqual(
      plan.warn.map(({ stack: name, daysLeft }) => [name, daysLeft]),
      [["a", 2]],
    );
  });

  it("never destroys a stack whose environment is missing, staging or anything but dev", () => {
    for (const environment of [undefined, "staging", "prod", "Dev", "development"]) {
      assert.notEqual(
        decideExpiry(stack({ environment, expiresOn: "2020-01-01" }), today).action,
        "destroy",
        String(environment),
      );
    }
  });

  it("refuses dates that are not real calendar days instead of guessing", () => {
    assert.equal(dayNumber("2026-02-30"), undefined);
    assert.equal(dayNumber("26-11-2026"), undefined);
    const decision = decideExpiry(stack({ expiresOn: "2026-02-30" }), today);
    assert.equal(decision.action, "invalid");
    assert.deepEqual(planExpiry([stack({ expiresOn: "2026-02-30" })], today).destroy, []);
    assert.throws(() => decideExpiry(stack({ expiresOn: "2026-12-01" }), "yesterday"), /YYYY-MM-DD/);
  });

  it("keeps deploy from re-creating an expired dev stack, but deploys prod whatever its dates", () => {
    assert.equal(shouldDeploy(stack({ expiresOn: "2026-11-01" }), today).deploy, false);
    assert.match(
      shouldDeploy(stack({ expiresOn: "2026-11-01" }), today).reason,
      /raise expiresOn in Pulumi.dev.yaml/,
    );
    assert.equal(shouldDeploy(stack({ expiresOn: "2026-12-01" }), today).deploy, true);
    assert.equal(shouldDeploy(stack({ environment: "prod", expiresOn: "2026-01-01" }), today).deploy, true);
  });
});
