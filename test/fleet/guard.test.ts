import { strict as assert } from "node:assert";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkSpokeRemovable, guardOverride, lookUpHub, main } from "../../ops/fleet/guard";
import { synthesizedStack } from "../support/stacks";

const hub = "organization/eks-gitops-platform/fleet-hub";
const spoke = "organization/eks-gitops-platform/fleet-spoke-a";

describe("fleet: a spoke cannot be destroyed while its hub targets it", () => {
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), "fleet-guard-"))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** A stand-in for the Pulumi CLI: prints `stdout`, or `stderr` with exit code 255. */
  function fakePulumi(name: string, stdout: string, stderr = ""): string {
    const file = join(dir, name);
    writeFileSync(
      file,
      `#!/bin/sh\n[ "$1 $2 $3 $4 $5" = "stack output --json --stack ${hub}" ] || { echo "unexpected: $*" >&2; exit 2; }\n` +
        (stderr ? `echo '${stderr}' >&2; exit 255\n` : `echo '${stdout}'\n`),
    );
    chmodSync(file, 0o755);
    return file;
  }

  it("refuses while the hub lists the spoke, naming the hub, the key and the commands", () => {
    assert.throws(
      () => checkSpokeRemovable(spoke, hub, { kind: "outputs", outputs: { fleetSpokes: [spoke] } }, false),
      (error: Error) =>
        error.message.includes(`the hub ${hub} still registers it (its fleet.spokes lists ${spoke})`) &&
        error.message.includes(`pulumi up --stack ${hub}`) &&
        error.message.includes("Nothing was deleted"),
    );
  });

  it("lets the destroy go on once the hub no longer lists it, or the hub is gone", () => {
    assert.match(
      checkSpokeRemovable(spoke, hub, { kind: "outputs", outputs: { fleetSpokes: ["other"] } }, false),
      /no longer registers/,
    );
    assert.match(checkSpokeRemovable(spoke, hub, { kind: "missing" }, false), /does not exist/);
  });

  it("refuses when the hub cannot be read, unless the documented override is set", () => {
    assert.throws(
      () => checkSpokeRemovable(spoke, hub, { kind: "error", message: "403" }, false),
      new RegExp(`set ${guardOverride}=true`),
    );
    assert.match(checkSpokeRemovable(spoke, hub, { kind: "error", message: "403" }, true), /not checking/);
  });

  it("reads the hub with the Pulumi CLI, as the delete step runs it", async () => {
    const listed = fakePulumi("listed", JSON.stringify({ fleetSpokes: [spoke] }));
    await assert.rejects(
      main({ FLEET_GUARD_SPOKE: spoke, FLEET_GUARD_HUB: hub, FLEET_GUARD_PULUMI: listed }),
      /still registers it/,
    );
    const gone = fakePulumi("gone", "", `error: no stack named '${hub}' found`);
    assert.deepEqual(await lookUpHub(hub, gone), { kind: "missing" });
    const denied = fakePulumi("denied", "", "error: [403] forbidden");
    assert.deepEqual(await lookUpHub(hub, denied), { kind: "error", message: "error: [403] forbidden" });
    const cleared = fakePulumi("cleared", JSON.stringify({ fleetSpokes: [] }));
    assert.match(
      await main({ FLEET_GUARD_SPOKE: spoke, FLEET_GUARD_HUB: hub, FLEET_GUARD_PULUMI: cleared }),
      /no longer/,
    );
  });

  it("the synthesized spoke deletes the guard first: after it, the drain and the hub's access", async () => {
    const result = await synthesizedStack("fleet-spoke-a");
    const guard = result.resources.find((resource) => resource.name === "fleet-guard-check");
    assert.ok(guard, "the spoke declares the guard");
    assert.equal(guard.inputs.delete, "npx --no-install ts-node --transpile-only ops/fleet/guard.ts");
    assert.deepEqual(guard.inputs.environment, { FLEET_GUARD_SPOKE: spoke, FLEET_GUARD_HUB: hub });
    const urnOf = (name: string) => result.resources.find((resource) => resource.name === name)?.urn;
    for (const name of ["teardown-drain", "fleet-hub-access-entry", "fleet-hub-access-policy"])
      assert.ok(guard.dependencies.includes(urnOf(name) as string), `the guard depends on ${name}`);
    // The hub lists its spokes for this check.
    const hubResult = await synthesizedStack("fleet-hub");
    assert.deepEqual(hubResult.outputs.fleetSpokes, [
      spoke,
      "organization/eks-gitops-platform/fleet-spoke-b",
    ]);
    const standalone = await synthesizedStack("prod");
    assert.ok(!standalone.resources.some((resource) => resource.name === "fleet-guard-check"));
  });
});
