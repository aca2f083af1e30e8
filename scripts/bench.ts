/**
 * npm run bench [-- --runs N] [-- --with-tests]
 * Times the offline synth against the bare cost of loading the Pulumi AWS SDK, each as a fresh process, and prints
 * medians and ratios. Targets: one stack ≤ 1.5× the bare SDK load; `npm test` under 60 s (with --with-tests).
 * Speed targets live here, not in tests, because shared 2-core machines are noisy.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";

const root = path.resolve(__dirname, "..");
const args = process.argv.slice(2);
const runs = Number(args[args.indexOf("--runs") + 1]) || 5;

function seconds(command: string, commandArgs: string[]): number {
  const start = process.hrtime.bigint();
  execFileSync(command, commandArgs, { cwd: root, stdio: "ignore" });
  return Number(process.hrtime.bigint() - start) / 1e9;
}

function median(command: string, commandArgs: string[]): number {
  const samples = Array.from({ length: runs }, () => seconds(command, commandArgs)).sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}

const out = mkdtempSync(path.join(tmpdir(), "synth-bench-"));
try {
  const bare = median(process.execPath, ["-e", "require('@pulumi/aws')"]);
  const one = median(process.execPath, ["synth/run.js", "dev", "--out", out]);
  const both = median(process.execPath, ["synth/run.js", "dev", "prod", "--out", out]);
  const ratio = one / bare;
  const rows: [string, string][] = [
    ["bare SDK load (require('@pulumi/aws'))", `${bare.toFixed(3)} s`],
    [
      "synth dev",
      `${one.toFixed(3)} s  (${ratio.toFixed(2)}× bare; target ≤ 1.50× ${ratio <= 1.5 ? "met" : "MISSED"})`,
    ],
    [
      "synth dev + prod in one run",
      `${both.toFixed(3)} s  (${(both / bare).toFixed(2)}× bare; second stack +${(both - one).toFixed(3)} s)`,
    ],
  ];
  if (args.includes("--with-tests")) {
    const test = seconds("npm", ["test", "--silent"]);
    rows.push(["npm test", `${test.toFixed(1)} s  (target < 60 s ${test < 60 ? "met" : "MISSED"})`]);
  }
  console.log(`median of ${runs} runs each, ${new Date().toISOString()}`);
  for (const [label, value] of rows) console.log(`  ${label.padEnd(42)} ${value}`);
} finally {
  rmSync(out, { recursive: true, force: true });
}
