import { strict as assert } from "node:assert";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../../pipeline/cli";
import { decideLiveExpiry, LIVE_OUTPUTS, LiveStack } from "../../pipeline/expiry";
import { discoverStacks, StackInfo } from "../../pipeline/stacks";
import { synthesizedStack } from "../support/stacks";

/**
 * The expire workflow destroys a stack only when the default branch's stack file AND the live stack agree that it
 * is an expired dev stack. The live side is `pulumi stack output --json` of the stack (fixtures under
 * test/fixtures/pipeline/live/), the outputs the program itself exports.
 */

const fixtures = join(__dirname, "..", "fixtures", "pipeline");
const repo = join(fixtures, "repo");
const relabelled = join(fixtures, "relabelled");
const today = "2026-11-25";

/** A `pulumi stack output --json` fixture, reduced to what the workflow passes on. */
function live(name: string): LiveStack {
  const outputs = JSON.parse(readFileSync(join(fixtures, "live", `${name}.json`), "utf8")) as Record<
    string,
    unknown
  >;
  const read = (key: string) => (outputs[key] === undefined ? undefined : String(outputs[key]));
  return { environment: read(LIVE_OUTPUTS.environment), expiresOn: read(LIVE_OUTPUTS.expiresOn) };
}

function stackIn(root: string, name: string): StackInfo {
  const found = discoverStacks(root).find((stack) => stack.name === name);
  assert.ok(found, `${name} in ${root}`);
  return found;
}

describe("pipeline/expiry: the live stack must agree before expiry destroys it", () => {
  it("destroys an expired dev stack whose live outputs say dev and a past expiresOn", () => {
    const decision = decideLiveExpiry(stackIn(repo, "sandbox-alice"), live("sandbox-alice"), today);
    assert.equal(decision.action, "destroy");
    assert.match(decision.reason, /live dev stack agrees/);
  });

  it("never destroys prod relabelled dev with a past date in its stack file: the live stack says prod", () => {
    const file = stackIn(relabelled, "prod");
    assert.equal(file.environment, "dev", "the fixture's file lies");
    const decision = decideLiveExpiry(file, live("prod"), today);
    assert.equal(decision.action, "keep");
    assert.match(decision.reason, /live stack's environment is prod/);
  });

  it("keeps a stack whose state has no environment output (deployed before the program exported it)", () => {
    const decision = decideLiveExpiry(
      stackIn(repo, "sandbox-alice"),
      live("sandbox-alice-predates-outputs"),
      today,
    );
    assert.equal(decision.action, "keep");
    assert.match(decision.reason, /no "environment" output/);
    assert.equal(
      decideLiveExpiry(stackIn(repo, "sandbox-alice"), { environment: "", expiresOn: "" }, today).action,
      "keep",
    );
  });

  it("keeps a dev stack whose live expiry has not passed yet, or is not a date", () => {
    const file = stackIn(repo, "sandbox-alice");
    assert.equal(decideLiveExpiry(file, live("sandbox-alice-extended"), today).action, "keep");
    assert.equal(decideLiveExpiry(file, { environment: "dev", expiresOn: today }, today).action, "keep");
    assert.equal(
      decideLiveExpiry(file, { environment: "dev", expiresOn: "2026-11-24" }, today).action,
      "destroy",
    );
    assert.equal(decideLiveExpiry(file, { environment: "dev", expiresOn: "soon" }, today).action, "keep");
    assert.equal(decideLiveExpiry(file, { environment: "dev" }, today).action, "keep");
  });

  it("never destroys what the file keeps, whatever the live stack says", () => {
    for (const name of ["dev", "prod", "staging"]) {
      assert.equal(decideLiveExpiry(stackIn(repo, name), live("sandbox-alice"), today).action, "keep", name);
    }
  });

  it("never destroys a live environment other than exactly dev", () => {
    const file = stackIn(repo, "sandbox-alice");
    for (const environment of ["prod", "staging", "Dev", "development", " dev"]) {
      assert.equal(
        decideLiveExpiry(file, { environment, expiresOn: "2020-01-01" }, today).action,
        "keep",
        environment,
      );
    }
  });
});

describe("pipeline/cli assert-live-expired: the last step before pulumi destroy", () => {
  const quiet = { log: console.log, error: console.error };
  let dir: string;
  let errors: string[];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "live-expiry-"));
    process.env.GITHUB_OUTPUT = join(dir, "output");
    errors = [];
    console.log = () => undefined;
    console.error = (message: string) => errors.push(message);
  });
  afterEach(() => {
    console.log = quiet.log;
    console.error = quiet.error;
    delete process.env.GITHUB_OUTPUT;
    rmSync(dir, { recursive: true, force: true });
  });
  const output = () => {
    try {
      return readFileSync(join(dir, "output"), "utf8");
    } catch {
      return "";
    }
  };
  const args = (root: string, stack: string, state: LiveStack) => [
    "assert-live-expired",
    "--root",
    root,
    "--stack",
    stack,
    "--today",
    today,
    "--live-environment",
    state.environment ?? "",
    "--live-expires-on",
    state.expiresOn ?? "",
  ];

  it("proceeds (proceed=true) for an expired dev stack that is dev and expired live too", () => {
    assert.equal(main(args(repo, "sandbox-alice", live("sandbox-alice"))), 0);
    assert.equal(output(), "proceed=true\n");
  });

  it("refuses prod relabelled dev on a branch, and sets no proceed output", () => {
    assert.equal(main(args(relabelled, "prod", live("prod"))), 1);
    assert.equal(output(), "");
    assert.match(errors.join("\n"), /refusing to destroy prod: the live stack's environment is prod/);
  });

  it("refuses when the live outputs are missing, and when the workflow forgets to pass them", () => {
    assert.equal(main(args(repo, "sandbox-alice", live("sandbox-alice-predates-outputs"))), 1);
    assert.throws(
      () => main(["assert-live-expired", "--root", repo, "--stack", "sandbox-alice", "--today", today]),
      /--live-environment and --live-expires-on are required/,
    );
    assert.equal(output(), "");
  });
});

describe("the program exports the outputs the expire workflow reads back from state", () => {
  it("dev: environment and expiresOn equal its stack file's", async () => {
    const result = await synthesizedStack("dev");
    const file = stackIn(join(__dirname, "..", ".."), "dev");
    assert.equal(result.outputs[LIVE_OUTPUTS.environment], "dev");
    assert.equal(result.outputs[LIVE_OUTPUTS.expiresOn], file.expiresOn);
    assert.match(String(file.expiresOn), /^\d{4}-\d{2}-\d{2}$/);
  });

  it("prod: environment prod", async () => {
    const result = await synthesizedStack("prod");
    assert.equal(result.outputs[LIVE_OUTPUTS.environment], "prod");
  });
});
