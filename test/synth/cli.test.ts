import { strict as assert } from "node:assert";
import { createHash } from "node:crypto";
import { spawn } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { synthesize } from "../../synth";
import { defaultJobs, main, writeFileAtomic } from "../../synth/cli";

/** `npm run synth` under abuse: broken stacks among good ones, stale outputs, bad options, unwritable output. */
const root = path.resolve(__dirname, "..", "..");
const project = "eks-gitops-platform";

interface Run {
  code: number;
  out: string;
  err: string;
}

async function synth(argv: string[], stackRoot = root): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (line) => out.push(line), err: (line) => err.push(line) }, stackRoot);
  return { code, out: out.join("\n"), err: err.join("\n") };
}

function scratch(): string {
  return mkdtempSync(path.join(tmpdir(), "synth-cli-"));
}

describe("synth CLI: options", () => {
  it("--help prints usage and examples and exits 0", async () => {
    for (const flag of ["--help", "-h"]) {
      const run = await synth([flag]);
      assert.equal(run.code, 0);
      assert.match(run.out, /^usage: npm run synth -- <stack>\.\.\. \| --all \[--out <dir>\]/);
      assert.match(run.out, /examples:\n {2}npm run synth -- dev\n/);
    }
  });

  it("refuses --out without a value instead of writing a folder named after the stack", async () => {
    for (const argv of [
      ["dev", "--out"],
      ["--out", "--all"],
      ["dev", "--out="],
    ]) {
      const run = await synth(argv);
      assert.equal(run.code, 2, argv.join(" "));
      assert.match(run.err, /^synth: --out needs a directory, e.g. --out \/tmp\/synth\nusage: /);
    }
  });

  it("refuses --jobs without a whole number in range", async () => {
    for (const argv of [
      ["dev", "--jobs"],
      ["dev", "--jobs", "0"],
      ["dev", "--jobs=1.5"],
      ["dev", "--jobs", "33"],
      ["dev", "--jobs", "--all"],
    ]) {
      const run = await synth(argv);
      assert.equal(run.code, 2, argv.join(" "));
      assert.match(run.err, /^synth: --jobs needs a whole number from 1 to 32.*, e\.g\. --jobs 2\nusage: /);
    }
  });

  it("runs one process per CPU by default, one while the machine is already busy", () => {
    assert.equal(defaultJobs(2, 0.4), 2);
    assert.equal(defaultJobs(4, 3.9), 4);
    assert.equal(defaultJobs(2, 2), 1);
    assert.equal(defaultJobs(2, 11.3), 1);
  });

  it("refuses unknown options and stacks, suggesting the nearest stack", async () => {
    assert.match((await synth(["dev", "--outdir", "x"])).err, /^synth: unknown option --outdir/);
    const run = await synth(["dve"]);
    assert.equal(run.code, 2);
    assert.match(run.err, /no stack file Pulumi\.dve\.yaml; did you mean dev\? \(stacks here: .*dev.*\)/);
  });
});

describe("synth CLI: --all with broken stacks among good ones", function () {
  this.timeout(120_000);
  let dir: string;
  let run: Run;

  before(async () => {
    dir = scratch();
    copyFileSync(path.join(root, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
    copyFileSync(path.join(root, "Pulumi.dev.yaml"), path.join(dir, "Pulumi.dev.yaml"));
    const dev = readFileSync(path.join(root, "Pulumi.dev.yaml"), "utf8");
    writeFileSync(
      path.join(dir, "Pulumi.a-yaml.yaml"),
      "config:\n  aws:region: eu-west-1\n   bad: [indent\n",
    );
    writeFileSync(
      path.join(dir, "Pulumi.b-config.yaml"),
      dev.replace(/availabilityZoneCount: 3/, "availabilityZoneCount: 4294967295"),
    );
    writeFileSync(
      path.join(dir, "Pulumi.c-principal.yaml"),
      dev.replace(
        "- arn:aws:iam::111122223333:role/platform-admins",
        "- arn:aws:iam::111122223333:role/platform-eu-west-1-dev-deploy",
      ),
    );
    // Outputs of an earlier good run of b-config, which its config now contradicts.
    mkdirSync(path.join(dir, "out", "b-config"), { recursive: true });
    writeFileSync(path.join(dir, "out", "b-config", "resources.json"), "{}");
    writeFileSync(path.join(dir, "out", "b-config", "policy-report.json"), "{}");
    run = await synth(["--all"], dir);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("synthesizes every stack it can and exits 1", () => {
    assert.equal(run.code, 1);
    assert.ok(existsSync(path.join(dir, "out", "dev", "resources.json")), run.err);
    assert.match(run.out, /Stack dev: \d+ resources/);
    assert.match(
      run.err,
      /synth: 1 of 4 stacks synthesized; failed: a-yaml \(Pulumi\.a-yaml\.yaml\), b-config \(Pulumi\.b-config\.yaml\), c-principal \(Pulumi\.c-principal\.yaml\)$/,
    );
  });

  it("reports each broken stack with its file and its problems, without a stack trace", () => {
    assert.match(
      run.err,
      /Stack a-yaml \(Pulumi\.a-yaml\.yaml\) failed: Nested mappings are not allowed in compact mappings at line 2, column 15/,
    );
    assert.match(
      run.err,
      new RegExp(
        `Stack b-config \\(Pulumi\\.b-config\\.yaml\\) failed: Stack configuration is invalid \\(1 problem\\):\\n  - ${project}:network\\.availabilityZoneCount = 4294967295: at most 6 AZs are supported; use 3`,
      ),
    );
    assert.match(
      run.err,
      /Stack c-principal \(Pulumi\.c-principal\.yaml\) failed: access\.admins: arn:aws:iam::111122223333:role\/platform-eu-west-1-dev-deploy is already granted access/,
    );
    assert.doesNotMatch(run.err, /\n\s+at /, "no stack trace");
  });

  it("removes a failed stack's previous outputs instead of leaving them to contradict its config", () => {
    assert.match(
      run.err,
      /out\/b-config: removed the previous resources\.json and policy-report\.json \(stale\)/,
    );
    assert.ok(!existsSync(path.join(dir, "out", "b-config")));
  });

  it("prints, writes and exits the same with one process as with worker processes", async () => {
    const parallel = await synth(["--all", "--jobs", "3", "--out", path.join(dir, "out-3")], dir);
    const serial = await synth(["--all", "--jobs", "1", "--out", path.join(dir, "out-1")], dir);
    assert.equal(parallel.code, 1);
    assert.equal(serial.code, 1);
    assert.equal(parallel.out.replaceAll("out-3", "out-1"), serial.out);
    assert.equal(parallel.err.replaceAll("out-3", "out-1"), serial.err);
    assert.equal(
      readFileSync(path.join(dir, "out-3", "dev", "resources.json"), "utf8"),
      readFileSync(path.join(dir, "out-1", "dev", "resources.json"), "utf8"),
    );
    assert.deepEqual(readdirSync(path.join(dir, "out-3")), ["dev"]);
  });

  it("reports the stacks of a worker process that dies as failed, and exits 1", async () => {
    // The worker dies at start (NODE_OPTIONS is read by a new process only): its share must not vanish silently.
    const dies = path.join(dir, "worker-dies.js");
    writeFileSync(dies, "process.exit(3);\n");
    const options = process.env.NODE_OPTIONS;
    process.env.NODE_OPTIONS = `--require ${dies}`;
    let run: Run;
    try {
      run = await synth(["--all", "--jobs", "2", "--out", path.join(dir, "out-lost")], dir);
    } finally {
      if (options === undefined) delete process.env.NODE_OPTIONS;
      else process.env.NODE_OPTIONS = options;
    }
    assert.equal(run.code, 1);
    // Shares: a-yaml and b-config here, c-principal and dev in the worker.
    assert.match(run.err, /Stack a-yaml \(Pulumi\.a-yaml\.yaml\) failed: /);
    for (const stack of ["c-principal", "dev"])
      assert.match(
        run.err,
        new RegExp(`Stack ${stack} failed: the worker process exited early \\(code 3\\)`),
      );
    assert.match(
      run.err,
      /synth: 0 of 4 stacks synthesized; failed: a-yaml .*, c-principal \(worker exited early \(code 3\)\), dev \(worker exited early \(code 3\)\)$/,
    );
  });
});

describe("synth CLI: --all in worker processes", function () {
  this.timeout(180_000);

  it("writes every stack's outputs byte for byte as one process does, with the same output and exit code", async () => {
    const dir = scratch();
    try {
      const runs = await Promise.all(
        ["1", "2"].map(
          (jobs) =>
            new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
              const child = spawn(
                process.execPath,
                ["synth/run.js", "--all", "--jobs", jobs, "--out", path.join(dir, `jobs-${jobs}`)],
                { cwd: root, env: { ...process.env, SYNTH_BUILD_DIR: path.join(dir, `build-${jobs}`) } },
              );
              let [out, err] = ["", ""];
              child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
              child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
              child.on("close", (code) => resolve({ code, out, err }));
            }),
        ),
      );
      const [serial, parallel] = runs;
      assert.equal(serial.code, 0, serial.err);
      assert.equal(parallel.code, 0, parallel.err);
      assert.equal(parallel.out.replaceAll("jobs-2", "jobs-1"), serial.out);
      assert.equal(parallel.err, serial.err);
      assert.match(serial.err, /(^|\n)synth: all \d+ stacks synthesized\n$/);
      const stacks = readdirSync(path.join(dir, "jobs-1")).sort();
      assert.deepEqual(readdirSync(path.join(dir, "jobs-2")).sort(), stacks);
      assert.ok(stacks.length >= 8, stacks.join(" "));
      for (const stack of stacks)
        for (const file of ["resources.json", "policy-report.json"])
          assert.ok(
            readFileSync(path.join(dir, "jobs-2", stack, file)).equals(
              readFileSync(path.join(dir, "jobs-1", stack, file)),
            ),
            `${stack}/${file}`,
          );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("synth CLI: output", function () {
  this.timeout(120_000);

  it("says which path cannot be written, with no trace, when out/ is unusable", async () => {
    const dir = scratch();
    try {
      const blocked = path.join(dir, "out");
      writeFileSync(blocked, "a file where the output folder belongs");
      const run = await synth(["dev", "--out", path.join(blocked, "nested")]);
      assert.equal(run.code, 1);
      assert.match(
        run.err,
        /^synth: cannot write .*out\/nested: a file is in the way of a folder \(ENOTDIR\); choose a writable folder with --out <dir>$/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("writes files atomically (temp file in the same folder, renamed; none left behind)", () => {
    const dir = scratch();
    try {
      const file = path.join(dir, "resources.json");
      writeFileSync(file, "old");
      writeFileAtomic(file, "new");
      assert.equal(readFileSync(file, "utf8"), "new");
      assert.deepEqual(readdirSync(dir), ["resources.json"]);
      assert.throws(
        () => writeFileAtomic(path.join(file, "x.json"), "{}"),
        /a file is in the way of a folder \(ENOTDIR\)/,
      );
      assert.deepEqual(readdirSync(dir), ["resources.json"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("runs three synths in parallel on an empty build cache, all complete and equal", async () => {
    const dir = scratch();
    try {
      const env = { ...process.env, SYNTH_BUILD_DIR: path.join(dir, "build") };
      const runs = await Promise.all(
        [1, 2, 3].map(
          (index) =>
            new Promise<{ code: number | null; err: string }>((resolve) => {
              const child = spawn(
                process.execPath,
                ["synth/run.js", "dev", "--out", path.join(dir, `out${index}`)],
                {
                  cwd: root,
                  env,
                  stdio: ["ignore", "ignore", "pipe"],
                },
              );
              let err = "";
              child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
              child.on("close", (code) => resolve({ code, err }));
            }),
        ),
      );
      for (const { code, err } of runs) assert.equal(code, 0, err);
      const outputs = [1, 2, 3].map((index) =>
        readFileSync(path.join(dir, `out${index}`, "dev", "resources.json"), "utf8"),
      );
      assert.equal(outputs[1], outputs[0]);
      assert.equal(outputs[2], outputs[0]);
      const cached = readdirSync(path.join(dir, "build", "ts-cache"));
      assert.ok(cached.length > 20 && cached.every((name) => name.endsWith(".js")), cached.join(" "));
      // The key covers esbuild's version and the transform options, not only the file: a changed option recompiles.
      const runner = readFileSync(path.join(root, "synth", "run.js"), "utf8");
      const options = /const transformOptions = (\{[^}]*\});/.exec(runner)?.[1];
      assert.ok(options, "synth/run.js names its transformOptions");
      const transformKey = JSON.stringify(new Function(`return ${options}`)());
      const version = (
        JSON.parse(readFileSync(require.resolve("esbuild/package.json"), "utf8")) as { version: string }
      ).version;
      const entry = path.join(root, "synth", "cli.ts");
      const expected = createHash("sha1")
        .update(`${version}\0${transformKey}\0${entry}\0${readFileSync(entry, "utf8")}`)
        .digest("hex");
      assert.ok(
        cached.includes(`${expected}.js`),
        "synth/cli.ts is cached under a key of version, options, file and source",
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("never loads the modules a synth does not call (automation API, closure serializer's npm and TypeScript, gRPC)", async () => {
    const dir = scratch();
    try {
      const record = path.join(dir, "record.js");
      const list = path.join(dir, "loaded.json");
      writeFileSync(
        record,
        `process.on("exit", () => require("fs").writeFileSync(${JSON.stringify(list)}, JSON.stringify(Object.keys(require.cache))));`,
      );
      const code = await new Promise<number | null>((resolve) =>
        spawn(process.execPath, ["-r", record, "synth/run.js", "dev", "--out", path.join(dir, "out")], {
          cwd: root,
          stdio: "ignore",
        }).on("close", resolve),
      );
      assert.equal(code, 0);
      const loaded = JSON.parse(readFileSync(list, "utf8")) as string[];
      assert.ok(
        loaded.some((file) => file.includes("@pulumi/aws")),
        "the synth ran",
      );
      for (const never of [
        "/typescript/lib/",
        "/@npmcli/arborist/",
        "/@pulumi/pulumi/automation/",
        "/sigstore/",
        "/@grpc/grpc-js/",
        "/@opentelemetry/api/",
        "_grpc_pb.js",
      ])
        assert.deepEqual(
          loaded.filter((file) => file.includes(never)),
          [],
          never,
        );
      assert.equal(
        readFileSync(path.join(dir, "out", "dev", "resources.json"), "utf8"),
        `${JSON.stringify(await synthesize("dev"), null, 2)}\n`,
        "the same resources as an in-process synth",
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
