import { strict as assert } from "node:assert";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { main } from "../../pipeline/cli";
import { clusterStackCi, discoverFoundationStacks, foundationStackCi } from "../../pipeline/foundations";
import { discoverStacks } from "../../pipeline/stacks";
import { writeFoundation } from "../support/foundation";

/**
 * Which runner and roles each cluster stack's jobs get, decided offline from the stack files, and the errors a user
 * sees (naming the key and the fix) when a stack's foundation, region or runner is missing.
 */

const root = join(__dirname, "..", "..");

describe("pipeline/foundations: runners and roles per stack", () => {
  it("routes each sample stack to the runner and roles of its own environment in the eu-west-1 foundation", () => {
    const foundations = discoverFoundationStacks(root);
    assert.deepEqual(
      foundations.map((foundation) => foundation.name),
      ["eu-west-1"],
    );
    const ci = discoverStacks(root).map((stack) => clusterStackCi(stack, foundations, "eks-gitops-platform"));
    assert.deepEqual(
      ci.map((entry) => [entry.stack, entry.environment, entry.runner, entry.previewRole, entry.deployRole]),
      [
        ["dev", "dev"],
        ["managed-argocd", "dev"],
        ["prod", "prod"],
        ["staging", "staging"],
      ].map(([stack, env]) => [
        stack,
        env,
        `platform-eu-west-1-${env}-runner`,
        `arn:aws:iam::111122223333:role/platform-eu-west-1-${env}-preview`,
        `arn:aws:iam::111122223333:role/platform-eu-west-1-${env}-deploy`,
      ]),
    );
    assert.deepEqual(foundationStackCi(foundations[0]), {
      stack: "eu-west-1",
      region: "eu-west-1",
      environment: "foundation-eu-west-1",
      deployRole: "arn:aws:iam::111122223333:role/platform-eu-west-1-foundation-deploy",
      previewRole: "arn:aws:iam::111122223333:role/platform-eu-west-1-foundation-preview",
    });
  });

  describe("errors that name the key and the fix", () => {
    let dir: string;
    const quiet = { log: console.log };
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), "foundations-"));
      writeFileSync(join(dir, "Pulumi.yaml"), "name: proj\nruntime: nodejs\n");
      console.log = () => undefined;
    });
    afterEach(() => {
      console.log = quiet.log;
      rmSync(dir, { recursive: true, force: true });
    });
    const stackFile = (name: string, config: Record<string, unknown>) =>
      writeFileSync(join(dir, `Pulumi.${name}.yaml`), stringify({ config }));
    const ci = (name: string) =>
      clusterStackCi(
        discoverStacks(dir).find((stack) => stack.name === name)!,
        discoverFoundationStacks(dir),
        "proj",
      );

    it("a runner label missing for the stack's environment", () => {
      writeFoundation(dir, "eu-west-1", { staging: {}, prod: {} });
      stackFile("dev", { "aws:region": "eu-west-1", "proj:environment": "dev" });
      assert.throws(
        () => ci("dev"),
        (error: Error) =>
          error.message.includes('proj:environment = "dev" has no runner') &&
          error.message.includes("serves staging, prod (eks-gitops-foundation:environments)") &&
          error.message.includes("add `dev: {}` under eks-gitops-foundation:environments"),
      );
      // The CLI the workflows call fails the same way (the resolve job, before any runner starts).
      assert.throws(() => main(["stack-ci", "--root", dir, "--stack", "dev"]), /has no runner/);
    });

    it("a foundation stack that does not exist", () => {
      writeFoundation(dir, "eu-west-1");
      stackFile("dev", {
        "aws:region": "eu-west-1",
        "proj:environment": "dev",
        "proj:foundation": { stack: "acme/eks-gitops-foundation/eu-west-9" },
      });
      assert.throws(
        () => ci("dev"),
        (error: Error) =>
          error.message.startsWith(
            'Pulumi.dev.yaml: proj:foundation.stack = "acme/eks-gitops-foundation/eu-west-9" names the foundation stack eu-west-9, but there is no foundation/Pulumi.eu-west-9.yaml',
          ) && error.message.includes("foundation stacks here: foundation/Pulumi.eu-west-1.yaml"),
      );
    });

    it("a foundation in another region (the default reference follows the stack's region)", () => {
      writeFoundation(dir, "eu-west-1");
      stackFile("dev", { "aws:region": "us-east-2", "proj:environment": "dev" });
      assert.throws(() => ci("dev"), /names the foundation stack us-east-2, but there is no/);
      stackFile("dev", {
        "aws:region": "us-east-2",
        "proj:environment": "dev",
        "proj:foundation": { stack: "acme/eks-gitops-foundation/eu-west-1" },
      });
      assert.throws(
        () => ci("dev"),
        /aws:region = "us-east-2" but its foundation foundation\/Pulumi\.eu-west-1\.yaml is in eu-west-1/,
      );
    });

    it("a deploy job in another GitHub environment than the stack's", () => {
      writeFoundation(dir, "eu-west-1");
      stackFile("prod", { "aws:region": "eu-west-1", "proj:environment": "prod" });
      assert.throws(
        () => main(["stack-ci", "--root", dir, "--stack", "prod", "--environment", "dev"]),
        /is a prod stack but the job runs in the GitHub environment dev/,
      );
      assert.equal(main(["stack-ci", "--root", dir, "--stack", "prod", "--environment", "prod"]), 0);
    });

    it("a run started by an account the runner's webhook would not start builds for", () => {
      // writeFoundation admits account 583231 (github.runnerActorIds).
      writeFoundation(dir, "eu-west-1");
      stackFile("dev", { "aws:region": "eu-west-1", "proj:environment": "dev" });
      assert.throws(
        () =>
          main(["stack-ci", "--root", dir, "--stack", "dev", "--environment", "dev", "--actor-id", "4242"]),
        (error: Error) =>
          error.message.startsWith(
            "dev: the dev runner (platform-eu-west-1-dev-runner) starts builds only",
          ) &&
          error.message.includes(
            "eks-gitops-foundation:github.runnerActorIds of foundation/Pulumi.eu-west-1.yaml (583231)",
          ) &&
          error.message.includes("started by account 4242; add 4242 there and deploy the foundation"),
      );
      assert.equal(
        main(["stack-ci", "--root", dir, "--stack", "dev", "--environment", "dev", "--actor-id", "583231"]),
        0,
      );
      assert.throws(
        () => main(["stack-ci", "--root", dir, "--stack", "dev", "--actor-id", "octocat"]),
        /--actor-id "octocat" is not a GitHub account id; pass github\.actor_id/,
      );
    });

    it("leaves out of the preview matrix, with an error annotation, the stacks whose runner would not start", () => {
      const printed: string[] = [];
      console.log = (line: string) => printed.push(String(line));
      const matrix = (actorId: string) => {
        const output = join(dir, "github-output");
        writeFileSync(output, "");
        const saved = process.env.GITHUB_OUTPUT;
        process.env.GITHUB_OUTPUT = output;
        try {
          assert.equal(main(["stacks", "--root", root, "--actor-id", actorId]), 0);
        } finally {
          if (saved === undefined) delete process.env.GITHUB_OUTPUT;
          else process.env.GITHUB_OUTPUT = saved;
        }
        const line = readFileSync(output, "utf8")
          .split("\n")
          .find((entry) => entry.startsWith("matrix="));
        return JSON.parse(String(line).slice("matrix=".length)) as { stack: string }[];
      };
      // The sample foundation admits only its placeholder account.
      assert.deepEqual(
        matrix("999999999999").map((entry) => entry.stack),
        ["dev", "managed-argocd", "prod", "staging"],
      );
      assert.deepEqual(
        printed.filter((line) => line.startsWith("::error::")),
        [],
      );
      assert.deepEqual(matrix("4242"), []);
      const errors = printed.filter((line) => line.startsWith("::error::no preview of "));
      assert.equal(errors.length, 4);
      assert.match(errors[0], /^::error::no preview of dev: the dev runner .* started by account 4242/);
    });

    it("an invalid foundation stack file, with every problem listed", () => {
      writeFoundation(
        dir,
        "eu-west-1",
        {},
        {
          "eks-gitops-foundation:network": {
            vpcCidr: "10.0.0.0/20",
            clusterCidrs: ["10.0.8.0/21", "172.16.0.0/16"],
          },
          "eks-gitops-foundation:runnr": {},
        },
      );
      assert.throws(
        () => discoverFoundationStacks(dir),
        (error: Error) =>
          error.message.startsWith("foundation/Pulumi.eu-west-1.yaml: Stack configuration is invalid") &&
          error.message.includes("eks-gitops-foundation:runnr") &&
          error.message.includes("eks-gitops-foundation:environments"),
      );
      writeFoundation(
        dir,
        "eu-west-1",
        { dev: {} },
        {
          "eks-gitops-foundation:network": {
            vpcCidr: "10.0.0.0/20",
            clusterCidrs: ["10.0.8.0/21", "172.16.0.0/16"],
          },
        },
      );
      assert.throws(
        () => discoverFoundationStacks(dir),
        (error: Error) =>
          error.message.includes(
            'eks-gitops-foundation:network.clusterCidrs.0 = "10.0.8.0/21": overlaps 10.0.0.0/20',
          ) &&
          error.message.includes(
            'eks-gitops-foundation:network.clusterCidrs.1 = "172.16.0.0/16": lies in another RFC 1918 range',
          ),
      );
    });
  });
});
