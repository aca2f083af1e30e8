// Entry point of `npm run synth`: loads the TypeScript synth CLI through a minimal esbuild transform hook for the
// project's own .ts files (type-checking is `npm run lint`'s job). Unlike a general TypeScript loader it adds no
// cost to the thousands of SDK modules a synth loads, and transformed files are cached by content in
// out/.build/ts-cache, so a repeated synth costs little more than loading the Pulumi SDKs.
const crypto = require("node:crypto");
const fs = require("node:fs");
const path = require("node:path");
const esbuild = require("esbuild");

const cacheDir = path.join(__dirname, "..", "out", ".build", "ts-cache");
fs.mkdirSync(cacheDir, { recursive: true });

require.extensions[".ts"] = (module, filename) => {
  const source = fs.readFileSync(filename, "utf8");
  const key = crypto.createHash("sha1").update(`${esbuild.version}\0${filename}\0${source}`).digest("hex");
  const cached = path.join(cacheDir, `${key}.js`);
  let code;
  try {
    code = fs.readFileSync(cached, "utf8");
  } catch {
    code = esbuild.transformSync(source, {
      loader: "ts",
      format: "cjs",
      target: "node20",
      sourcefile: filename,
    }).code;
    fs.writeFileSync(cached, code);
  }
  module._compile(code, filename);
};
require(path.join(__dirname, "cli.ts"));
