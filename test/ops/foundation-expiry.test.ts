import { strict as assert } from "node:assert";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, copyFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "../../infra/config";
import { resolveFoundationConfig } from "../../infra/foundation/config";
import { projectRoot } from "../../infra/project";
import { main } from "../../pipeline/cli";
import { decideLiveExpiry, foundationRefusal, foundationStackFiles, planExpiry } from "../../pipeline/expiry";
import { discoverStacks } from "../../pipeline/stacks";

/**
 * Expiry does not apply to foundations: one per account and region, long-lived, and every cluster stack of the region
 * stands on it. The expire workflow's plan lists them as kept, its last steps before `pulumi destroy` refuse them by
 * name, a foundation's own live outputs never confirm a destroy, and a foundation stack file cannot carry an expiry.
 */

const farFuture = "2099-01-01";

describe("expiry never applies to foundation stacks", () => {
  it("the plan lists each foundation stack as kept, never as destroyed or warned, whatever the date", () => {
    const foundations = foundationStackFiles(projectRoot);
    assert.deepEqual(foundations, [{ name: "eu-west-1", file: "foundation/Pulumi.eu-west-1.yaml" }]);
    const plan = planExpiry(discoverStacks(projectRoot), farFuture, 5, foundations);
    const kept = plan.decisions.find((decision) => decision.stack === "foundation/Pulumi.eu-west-1.yaml");
    assert.equal(kept?.action, "keep");
    assert.match(kept?.reason ?? "", /a foundation stack never expires/);
    assert.ok(!plan.destroy.some((stack) => stack.includes("eu-west-1")), JSON.stringify(plan.destroy));
    assert.ok(!plan.warn.some((decision) => decision.stack.includes("foundation")));
  });

  it("refuses a foundation by name or by foundation/<name>, but not a cluster stack that shares its name", () => {
    const foundations = [{ name: "eu-west-1", file: "foundation/Pulumi.eu-west-1.yaml" }];
    const clusters = discoverStacks(projectRoot);
    assert.match(
      foundationRefusal("eu-west-1", clusters, foundations) ?? "",
      /refusing to destroy eu-west-1: foundation\/Pulumi\.eu-west-1\.yaml is a foundation stack/,
    );
    assert.match(foundationRefusal("foundation/eu-west-1", clusters, foundations) ?? "", /foundation stack/);
    assert.equal(foundationRefusal("dev", clusters, foundations), undefined);
    const namesake = { ...clusters[0], name: "eu-west-1", file: "Pulumi.eu-west-1.yaml" };
    assert.equal(foundationRefusal("eu-west-1", [namesake], foundations), undefined);
  });

  it("a foundation's live outputs never confirm a destroy (no environment output)", () => {
    const outputs = { contractVersion: 1, accountId: "111122223333", region: "eu-west-1", vpcId: "vpc-1" };
    const dev = discoverStacks(projectRoot).find((stack) => stack.name === "dev");
    assert.ok(dev);
    const expiredDev = { ...dev, expiresOn: "2020-01-01" };
    const decision = decideLiveExpiry(expiredDev, outputs as never, "2026-11-28");
    assert.equal(decision.action, "keep");
    assert.match(decision.reason, /no "environment" output/);
  });

  it("a foundation stack file cannot carry expiresOn or environment: the schema names the key", () => {
    const valid = {
      accountId: "111122223333",
      github: {
        repository: "acme/eks-gitops-platform",
        runnerActorIds: [999999999999],
        connectionArn:
          "arn:aws:codeconnections:eu-west-1:111122223333:connection/00000000-0000-4000-8000-000000000000",
      },
      environments: { dev: {} },
    };
    const context = { project: "eks-gitops-foundation", stack: "eu-west-1", region: "eu-west-1" };
    assert.doesNotThrow(() => resolveFoundationConfig(valid, context));
    for (const key of ["expiresOn", "environment"])
      assert.throws(
        () =>
          resolveFoundationConfig({ ...valid, [key]: key === "expiresOn" ? "2026-12-31" : "dev" }, context),
        (error: Error) =>
          error instanceof ConfigError && error.message.includes(`eks-gitops-foundation:${key}`),
      );
  });

  describe("pipeline/cli assert-expired / assert-live-expired", () => {
    const quiet = { log: console.log, error: console.error };
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), "foundation-expiry-"));
      process.env.GITHUB_OUTPUT = join(dir, "output");
      console.log = console.error = () => undefined;
    });
    afterEach(() => {
      [console.log, console.error] = [quiet.log, quiet.error];
      delete process.env.GITHUB_OUTPUT;
      rmSync(dir, { recursive: true, force: true });
    });
    const proceeded = () => {
      try {
        return readFileSync(join(dir, "output"), "utf8").includes("proceed=true");
      } catch {
        return false;
      }
    };

    it("refuse a foundation stack by name before reading anything else, and set no proceed output", () => {
      for (const stack of ["eu-west-1", "foundation/eu-west-1"]) {
        assert.throws(
          () => main(["assert-expired", "--root", projectRoot, "--stack", stack, "--today", farFuture]),
          /is a foundation stack, and expiry only ever destroys cluster stacks/,
        );
        assert.throws(
          () =>
            main([
              "assert-live-expired",
              "--root",
              projectRoot,
              "--stack",
              stack,
              "--today",
              farFuture,
              "--live-environment",
              "dev",
              "--live-expires-on",
              "2020-01-01",
            ]),
          /is a foundation stack/,
        );
      }
      assert.equal(proceeded(), false);
    });

    it("still confirm an expired dev cluster stack in a repository that has foundations", () => {
      const root = join(dir, "repo");
      mkdirSync(join(root, "foundation"), { recursive: true });
      for (const file of ["Pulumi.yaml", "foundation/Pulumi.yaml", "foundation/Pulumi.eu-west-1.yaml"])
        copyFileSync(join(projectRoot, file), join(root, file));
      writeFileSync(
        join(root, "Pulumi.sandbox.yaml"),
        "config:\n  aws:region: eu-west-1\n  eks-gitops-platform:environment: dev\n  eks-gitops-platform:expiresOn: 2026-11-01\n",
      );
      assert.equal(
        main(["assert-expired", "--root", root, "--stack", "sandbox", "--today", "2026-11-28"]),
        0,
      );
      assert.equal(proceeded(), true);
    });
  });
});
