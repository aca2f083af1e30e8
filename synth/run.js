// Entry point of `npm run synth`: loads the TypeScript synth CLI through a minimal esbuild transform hook for the
// project's own .ts files (type-checking is `npm run lint`'s job). Unlike a general TypeScript loader it adds no
// cost to the thousands of SDK modules a synth loads, which keeps a synth close to the bare SDK load time.
const fs = require("node:fs");
const path = require("node:path");
const esbuild = require("esbuild");

require.extensions[".ts"] = (module, filename) => {
  const { code } = esbuild.transformSync(fs.readFileSync(filename, "utf8"), {
    loader: "ts",
    format: "cjs",
    target: "node20",
    sourcefile: filename,
  });
  module._compile(code, filename);
};
require(path.join(__dirname, "cli.ts"));
