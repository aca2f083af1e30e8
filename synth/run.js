// Entry point of `npm run synth`: bundles the TypeScript synth CLI with esbuild (type-checking is `npm run lint`'s
// job) and runs it as plain JavaScript. This keeps a synth close to the bare cost of loading the Pulumi SDKs,
// where a TypeScript loader hook would add its own cost to every module the SDKs load.
const path = require("node:path");
const esbuild = require("esbuild");

const outfile = path.join(__dirname, "..", "out", ".build", "synth-cli.js");
esbuild.buildSync({
  entryPoints: [path.join(__dirname, "cli.ts")],
  bundle: true,
  platform: "node",
  target: "node20",
  format: "cjs",
  packages: "external",
  outfile,
  logLevel: "error",
});
require(outfile);
