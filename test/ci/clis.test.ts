import { strict as assert } from "node:assert";
import { spawn } from "node:child_process";
import * as path from "node:path";
import { main as bench } from "../../scripts/bench";

/** Every command line answers --help with usage and examples (exit 0); the benchmark fails when a target is missed. */
const root = path.resolve(__dirname, "..", "..");

function run(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
    child.on("close", (code) => resolve({ code, out, err }));
  });
}

const tsNode = ["-r", "ts-node/register/transpile-only"];
const clis: [string, string[], RegExp][] = [
  ["npm run synth", ["synth/run.js", "--help"], /^usage: npm run synth -- /],
  ["npm run cost", [...tsNode, "ops/cost/cli.ts", "--help"], /^usage: npm run cost -- /],
  ["npm run verify", [...tsNode, "ops/verify/cli.ts", "--help"], /^usage: npm run verify -- /],
  ["npm run teardown", [...tsNode, "ops/teardown/cli.ts", "--help"], /^usage: npm run teardown -- /],
  [
    "foundation destroy guard",
    [...tsNode, "ops/foundation/cli.ts", "--help"],
    /^usage: ts-node ops\/foundation\/cli\.ts/,
  ],
  ["pipeline/cli.ts", [...tsNode, "pipeline/cli.ts", "--help"], /^usage: pipeline\/cli\.ts <command>/],
  [
    "fleet hub guard",
    [...tsNode, "ops/fleet/hub-guard.ts", "--help"],
    /^usage: ts-node ops\/fleet\/hub-guard\.ts/,
  ],
  [
    "fleet registration",
    [...tsNode, "ops/fleet/registration.ts", "--help"],
    /^usage: ts-node ops\/fleet\/registration\.ts/,
  ],
  ["action facts", [...tsNode, "scripts/action-facts.ts", "--help"], /^usage: scripts\/action-facts\.ts/],
  ["npm run bench", [...tsNode, "scripts/bench.ts", "--help"], /^usage: npm run bench/],
];

describe("command lines: --help", function () {
  this.timeout(120_000);
  let results: { code: number | null; out: string; err: string }[];
  before(async () => {
    results = await Promise.all(clis.map(([, args]) => run(args)));
  });

  clis.forEach(([name, , usage], index) => {
    it(`${name} --help: usage and examples on stdout, exit 0`, () => {
      const { code, out, err } = results[index];
      assert.equal(code, 0, err);
      assert.match(out, usage);
      assert.match(out, /\nexamples:\n {2}\S/);
    });
  });

  it("cost exits non-zero for a base directory that does not exist", async () => {
    const { code, err } = await run([
      ...tsNode,
      "ops/cost/cli.ts",
      "--base",
      "/nonexistent",
      "--head",
      "out",
    ]);
    assert.notEqual(code, 0);
    assert.match(err, /--base \/nonexistent: no such directory/);
  });
});

describe("bench exit code", () => {
  const quiet = <T>(body: () => T): T => {
    const [log, error] = [console.log, console.error];
    console.log = console.error = () => undefined;
    try {
      return body();
    } finally {
      [console.log, console.error] = [log, error];
    }
  };
  /** A fake clock: the bare SDK load takes 1 s, every synth command `synth` seconds. */
  const timed = (synth: number) => (command: string, args: string[]) =>
    args.includes("-e") ? 1 : command === "npm" ? synth + 0.1 : synth;

  it("is 0 when every target is met and 1 when one is missed", () => {
    assert.equal(
      quiet(() => bench(["--runs", "1"], timed(0.9))),
      0,
    );
    assert.equal(
      quiet(() => bench(["--runs", "1"], timed(1.05))),
      1,
      "node synth/run.js dev above 1.00×",
    );
  });
});
