import { strict as assert } from "node:assert";
import { spawn, spawnSync } from "node:child_process";
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { referenceOutputs, synthesize, synthesizeFoundation, SynthResult, SynthSession } from "../../synth";
import { allStacks } from "../../synth/cli";
import { programKey, programSources, sourceFingerprint, type ProgramInputs } from "../../synth/cache";

/** The content-keyed cache of referenced stacks' outputs (synth/cache.ts) and the sharing of one run's programs. */
const root = path.resolve(__dirname, "..", "..");
const foundationFile = path.join(root, "foundation", "Pulumi.eu-west-1.yaml");

function scratch(): string {
  return mkdtempSync(path.join(tmpdir(), "synth-cache-"));
}

/** A session that counts the programs it really runs (not those it answers from this run or its folder). */
class CountingSession extends SynthSession {
  readonly ran: string[] = [];
  override result(key: string, run: () => Promise<SynthResult>): Promise<SynthResult> {
    return super.result(key, () => run().then((result) => (this.ran.push(result.stack), result)));
  }
}

describe("synth cache: a referenced foundation's outputs", function () {
  this.timeout(120_000);
  let dir: string;
  before(() => (dir = scratch()));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("are the foundation's own synthesized outputs, kept on disk by key", async () => {
    const cacheDir = path.join(dir, "outputs-1");
    const fresh = await synthesizeFoundation("eu-west-1");
    const cached = await referenceOutputs("foundation-eu-west-1", { session: new SynthSession(cacheDir) });
    assert.deepEqual(cached, fresh.outputs);
    const files = readdirSync(cacheDir);
    assert.equal(files.length, 1, files.join(" "));
    assert.match(files[0], /^[0-9a-f]{64}\.json$/);
    assert.deepEqual(JSON.parse(readFileSync(path.join(cacheDir, files[0]), "utf8")).outputs, fresh.outputs);
  });

  it("are never served stale: a changed foundation config is a new key with the new outputs", async () => {
    const cacheDir = path.join(dir, "outputs-2");
    const configFile = path.join(dir, "Pulumi.eu-west-1.yaml");
    copyFileSync(foundationFile, configFile);
    const before = await referenceOutputs("foundation-eu-west-1", {
      configFile,
      session: new SynthSession(cacheDir),
    });
    assert.equal(before.vpcCidr, "10.0.0.0/20");

    const text = readFileSync(configFile, "utf8");
    assert.match(text, /vpcCidr: 10\.0\.0\.0\/20/);
    writeFileSync(configFile, text.replace("vpcCidr: 10.0.0.0/20", "vpcCidr: 10.1.0.0/20"));
    // A new session, as a later `npm run synth` is: only the folder is shared.
    const after = await referenceOutputs("foundation-eu-west-1", {
      configFile,
      session: new SynthSession(cacheDir),
    });
    assert.equal(after.vpcCidr, "10.1.0.0/20");
    assert.deepEqual(after, (await synthesizeFoundation("eu-west-1", { configFile })).outputs);
    assert.equal(readdirSync(cacheDir).length, 2);
  });

  it("come from the folder when the inputs match, and a file of another key or shape is not used", async () => {
    const cacheDir = path.join(dir, "outputs-3");
    const first = new CountingSession(cacheDir);
    const outputs = await referenceOutputs("foundation-eu-west-1", { session: first });
    assert.deepEqual(first.ran, ["foundation-eu-west-1"]);

    const second = new CountingSession(cacheDir);
    assert.deepEqual(await referenceOutputs("foundation-eu-west-1", { session: second }), outputs);
    assert.deepEqual(second.ran, [], "read from the folder, not run again");

    const [file] = readdirSync(cacheDir).map((name) => path.join(cacheDir, name));
    for (const foreign of [
      JSON.stringify({ key: "0".repeat(64), outputs: { vpcId: "vpc-elsewhere" } }),
      "{ half a file",
      JSON.stringify({ key: path.basename(file, ".json"), outputs: null }),
    ]) {
      writeFileSync(file, foreign);
      const third = new CountingSession(cacheDir);
      assert.deepEqual(await referenceOutputs("foundation-eu-west-1", { session: third }), outputs);
      assert.deepEqual(third.ran, ["foundation-eu-west-1"], foreign);
      // ... and is replaced by the real entry, so the next run reads it instead of running again.
      assert.deepEqual(JSON.parse(readFileSync(file, "utf8")), {
        key: path.basename(file, ".json"),
        outputs,
      });
    }
  });

  it("of a broken referenced stack fail naming that stack and its file, not the referencing one", async () => {
    const configFile = path.join(dir, "Pulumi.eu-west-1.yaml");
    const text = readFileSync(foundationFile, "utf8");
    assert.match(text, /availabilityZoneCount: 3/);
    writeFileSync(configFile, text.replace("availabilityZoneCount: 3", "availabilityZoneCount: 99"));
    await assert.rejects(
      referenceOutputs("foundation-eu-west-1", { configFile, session: new SynthSession() }),
      (error: unknown) => {
        assert.ok(error instanceof Error);
        const file = path.relative(root, configFile).replace(/[.]/g, "[.]");
        assert.match(
          error.message,
          new RegExp(
            `^the stack it references, foundation-eu-west-1 \\(${file}\\), failed: .*availabilityZoneCount = 99`,
            "s",
          ),
        );
        return true;
      },
    );
  });
});

describe("synth cache: keys", () => {
  const inputs: ProgramInputs = {
    program: "foundation",
    project: "eks-gitops-foundation",
    stack: "foundation-eu-west-1",
    pulumiStack: "eu-west-1",
    rawConfig: { "aws:region": "eu-west-1" },
    references: {},
  };

  it("change with every input, the code and packages, and the day", () => {
    const key = programKey(inputs, "sources", "2026-11-28");
    assert.equal(programKey({ ...inputs }, "sources", "2026-11-28"), key, "stable");
    for (const changed of [
      programKey({ ...inputs, program: "platform" }, "sources", "2026-11-28"),
      programKey({ ...inputs, stack: "foundation-eu-west-2" }, "sources", "2026-11-28"),
      programKey({ ...inputs, rawConfig: { "aws:region": "eu-west-2" } }, "sources", "2026-11-28"),
      programKey({ ...inputs, references: { "o/p/s": { vpcId: "vpc-1" } } }, "sources", "2026-11-28"),
      programKey(inputs, "other sources", "2026-11-28"),
      programKey(inputs, "sources", "2026-11-29"),
    ])
      assert.notEqual(changed, key);
  });

  it("fingerprint every file under the program's sources, and nothing else", () => {
    const dir = scratch();
    try {
      for (const file of ["infra/config/schema.ts", "addons/karpenter/values.yaml", "foundation/index.ts"]) {
        mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
        writeFileSync(path.join(dir, file), "one");
      }
      writeFileSync(path.join(dir, "Pulumi.yaml"), "name: x\n");
      mkdirSync(path.join(dir, "node_modules"));
      writeFileSync(path.join(dir, "node_modules", ".package-lock.json"), "{}");
      mkdirSync(path.join(dir, "docs"));
      const fingerprint = sourceFingerprint(dir);
      writeFileSync(path.join(dir, "docs", "notes.md"), "not a source");
      assert.equal(sourceFingerprint(dir), fingerprint, "docs/ is not a program source");
      for (const file of [
        "infra/config/schema.ts",
        "addons/karpenter/values.yaml",
        "Pulumi.yaml",
        "node_modules/.package-lock.json",
      ]) {
        const original = readFileSync(path.join(dir, file));
        writeFileSync(path.join(dir, file), "changed");
        assert.notEqual(sourceFingerprint(dir), fingerprint, file);
        writeFileSync(path.join(dir, file), original);
        assert.equal(sourceFingerprint(dir), fingerprint, `${file} restored`);
      }
      writeFileSync(path.join(dir, "infra", "new.ts"), "");
      assert.notEqual(sourceFingerprint(dir), fingerprint, "a new file");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("cover every project file a synth loads or reads (so a new import cannot escape the key)", function () {
    this.timeout(120_000);
    // A fresh process synthesizes the fleet hub (both programs: the fleet's foundation, the hub before and with its
    // spokes, spokes in both compute modes) and lists what it loaded and read.
    const script = `
      const fs = require("fs");
      const read = new Set();
      const readFileSync = fs.readFileSync;
      fs.readFileSync = function (file, ...rest) { read.add(String(file)); return readFileSync.call(this, file, ...rest); };
      const { synthesize } = require("./synth");
      (async () => {
        await synthesize("fleet-hub");
        console.log(JSON.stringify([...Object.keys(require.cache), ...read]));
      })();`;
    const child = spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", "-e", script], {
      cwd: root,
      encoding: "utf8",
      maxBuffer: 64 * 1024 * 1024,
    });
    assert.equal(child.status, 0, child.stderr);
    const files = (JSON.parse(child.stdout) as string[])
      .filter((file) => path.isAbsolute(file) && file.startsWith(`${root}${path.sep}`))
      .map((file) => path.relative(root, file))
      .filter((file) => !file.startsWith(`node_modules${path.sep}`));
    const outside = files.filter(
      (file) =>
        !programSources.some((source) => file === source || file.startsWith(`${source}${path.sep}`)) &&
        // Stack config files: their content is in the key as the stack's config.
        !/(^|\/)Pulumi\.[^/]+\.ya?ml$/.test(file) &&
        // Read by this test's TypeScript loader (ts-node); synth/run.js transforms without it.
        file !== "tsconfig.json",
    );
    assert.ok(
      files.some((file) => file.startsWith("addons/")),
      "the add-on files were read",
    );
    assert.deepEqual([...new Set(outside)], [], "read by a synth but not in programSources");
  });
});

describe("synth session: one run's programs", function () {
  this.timeout(180_000);

  it("run each stack once; with a warm folder only the stacks themselves run; results as unshared", async () => {
    const cacheDir = path.join(scratch(), "outputs");
    try {
      // In --all's order: a foundation and a cluster on it, a fleet hub and the spokes that reference it, all on
      // the fleet's own foundation (examples/fleet/foundation, referenced only).
      const stacks = ["foundation-eu-west-1", "dev", "fleet-hub", "fleet-spoke-a", "fleet-spoke-b"];
      assert.deepEqual(
        allStacks(root).filter((stack) => stacks.includes(stack)),
        stacks,
      );
      const cold = new CountingSession(cacheDir);
      const results: SynthResult[] = [];
      for (const stack of stacks) results.push(await synthesize(stack, { session: cold }));
      assert.deepEqual(
        cold.ran,
        ["foundation-eu-west-1", "dev", "foundation-fleet", "fleet-hub", "fleet-spoke-a", "fleet-spoke-b"],
        "each program once: a stack referenced by a later one is not synthesized again",
      );

      const warm = new CountingSession(cacheDir);
      for (const [index, stack] of stacks.entries()) {
        const result = await synthesize(stack, { session: warm });
        assert.equal(JSON.stringify(result), JSON.stringify(results[index]), stack);
      }
      assert.deepEqual(
        warm.ran,
        stacks,
        "a warm run synthesizes exactly its own stacks, each once, in order",
      );

      // And each equals a synth with nothing shared or cached.
      for (const [index, stack] of stacks.entries())
        assert.equal(JSON.stringify(await synthesize(stack)), JSON.stringify(results[index]), stack);
    } finally {
      rmSync(path.dirname(cacheDir), { recursive: true, force: true });
    }
  });
});

describe("synth CLI: the outputs cache in out/.build", function () {
  this.timeout(120_000);

  function synthProcess(args: string[], buildDir: string): Promise<{ code: number | null; err: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, ["synth/run.js", ...args], {
        cwd: root,
        env: { ...process.env, SYNTH_BUILD_DIR: buildDir },
        stdio: ["ignore", "ignore", "pipe"],
      });
      let err = "";
      child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
      child.on("close", (code) => resolve({ code, err }));
    });
  }

  it("a cluster synth keeps its foundation's outputs and reads them on the next run", async () => {
    const dir = scratch();
    try {
      const build = path.join(dir, "build");
      const out = path.join(dir, "out");
      const first = await synthProcess(["dev", "--out", out], build);
      assert.equal(first.code, 0, first.err);
      const resources = readFileSync(path.join(out, "dev", "resources.json"), "utf8");
      assert.equal(resources, `${JSON.stringify(await synthesize("dev"), null, 2)}\n`);
      const entries = readdirSync(path.join(build, "outputs"));
      const foundationEntry = entries
        .map((name) => path.join(build, "outputs", name))
        .find((file) => JSON.parse(readFileSync(file, "utf8")).outputs.vpcCidr === "10.0.0.0/20");
      assert.ok(foundationEntry, entries.join(" "));

      // The next run reads the entry (here altered, to see that it is read): what the key guarantees is that a
      // changed foundation never finds this entry (tests above).
      const entry = JSON.parse(readFileSync(foundationEntry, "utf8"));
      entry.outputs.s3EndpointId = "vpce-from-the-cache";
      writeFileSync(foundationEntry, JSON.stringify(entry));
      const second = await synthProcess(["dev", "--out", out], build);
      assert.equal(second.code, 0, second.err);
      assert.match(readFileSync(path.join(out, "dev", "resources.json"), "utf8"), /vpce-from-the-cache/);
      const foundationEntries = readdirSync(path.join(build, "outputs")).filter(
        (name) =>
          "contractVersion" in JSON.parse(readFileSync(path.join(build, "outputs", name), "utf8")).outputs,
      );
      assert.deepEqual(
        foundationEntries,
        [path.basename(foundationEntry)],
        "the foundation did not run again",
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
