// Entry point of `npm run synth`. Most of a synth is loading ~900 modules, so this file makes loading cheap:
// - Node's module compile cache (module.enableCompileCache, Node 22.1+) keeps V8's compiled code of every module
//   in out/.build/compile-cache, so a warm synth skips parsing and compiling the SDKs;
// - the project's own .ts files go through a minimal esbuild transform (type-checking is `npm run lint`'s job),
//   cached by content in out/.build/ts-cache;
// - modules the offline synth never calls (Pulumi's automation API, the closure serializer's npm tree reader and
//   TypeScript compiler: ~550 modules and 9 MB pulled in by `@pulumi/pulumi`'s index) load only if touched.
// Cache files are written to a temporary name and renamed, so parallel synths never read a half-written file; an
// unwritable cache directory only costs speed.
"use strict";
// A synth is short: its code runs a few times, not long enough for V8's top tier (TurboFan) to pay back its
// compiles, which on 2 busy cores took ~20% of the CPU of a three-stack synth. Interpreter, Sparkplug and Maglev
// still run; what the program computes is the same (out/ files compared byte for byte).
require("node:v8").setFlagsFromString("--max-opt=2");
const crypto = require("node:crypto");
const fs = require("node:fs");
const Module = require("node:module");
const path = require("node:path");

// Pulumi's runtime records `new Error().stack` for every promise it creates (only ever read by its leak report) and
// formatting those traces was a fifth of a synth's CPU. The CLI prints no traces anyway; DEBUG=1 brings them back.
// (Resource source positions are unaffected: Pulumi raises the limit itself while it reads them.)
if (!process.env.DEBUG) Error.stackTraceLimit = 0;

const minimumNodeMajor = 22;
const nodeMajor = Number(process.versions.node.split(".")[0]);
// A worker process of `--jobs` (synth/jobs.ts) leaves the warning to its parent, which printed it already.
if (nodeMajor < minimumNodeMajor && process.env.SYNTH_WORKER !== "1") {
  process.stderr.write(
    `warning: Node ${process.versions.node} is end-of-life; this project needs Node ${minimumNodeMajor}+ (.nvmrc; \`nvm use\`)\n`,
  );
}

// SYNTH_BUILD_DIR moves the caches (a read-only checkout; the tests' fresh-cache runs).
const buildDir = process.env.SYNTH_BUILD_DIR || path.join(__dirname, "..", "out", ".build");

/** A cache directory if it can be created, else undefined (read-only checkout, full disk: run uncached). */
function cacheDir(name) {
  const dir = path.join(buildDir, name);
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.accessSync(dir, fs.constants.W_OK);
    return dir;
  } catch {
    return undefined;
  }
}

const compileCache = cacheDir("compile-cache");
if (compileCache && typeof Module.enableCompileCache === "function") Module.enableCompileCache(compileCache);

/** Writes a file atomically: readers see the old content or the new, never part of it. */
function writeAtomic(file, text) {
  const temporary = `${file}.${process.pid}.${crypto.randomBytes(4).toString("hex")}.tmp`;
  try {
    fs.writeFileSync(temporary, text);
    fs.renameSync(temporary, file);
  } catch {
    try {
      fs.rmSync(temporary, { force: true });
    } catch {
      // an unusable cache folder: nothing was written
    }
  }
}

const tsCache = cacheDir("ts-cache");
let esbuild;
// The version from its package.json: loading esbuild itself (~20 ms) is for a cache miss only.
let esbuildVersion;
// Part of the cache key with the version: a changed option recompiles instead of reusing code built the old way.
const transformOptions = { loader: "ts", format: "cjs", target: "node22" };
const transformKey = JSON.stringify(transformOptions);
require.extensions[".ts"] = (module, filename) => {
  const source = fs.readFileSync(filename, "utf8");
  esbuildVersion ??= require("esbuild/package.json").version;
  const key = crypto
    .createHash("sha1")
    .update(`${esbuildVersion}\0${transformKey}\0${filename}\0${source}`)
    .digest("hex");
  const cached = tsCache && path.join(tsCache, `${key}.js`);
  let code;
  try {
    code = fs.readFileSync(cached, "utf8");
  } catch {
    esbuild ??= require("esbuild");
    code = esbuild.transformSync(source, { ...transformOptions, sourcefile: filename }).code;
    if (cached) writeAtomic(cached, code);
  }
  module._compile(code, filename);
};

// Loaded on first use only. Each is reached from @pulumi/pulumi's index at load time but used only by the
// automation API and by closure serialization (dynamic providers), neither of which a synth runs, or (gRPC, Pulumi's
// gRPC client stubs, OpenTelemetry's API for tracing those calls) only to talk to a real engine: under mocks no call
// leaves the process, and the error paths that read `grpc.status` load it then. Each is TypeScript-compiled (`__esModule`) or imported through
// `__importStar`, so a proxy stands in transparently.
const projectDir = path.join(__dirname, "..");
const pulumiProto = path.join(
  path.dirname(require.resolve("@pulumi/pulumi/package.json", { paths: [projectDir] })),
  "proto",
);
const lazyModules = new Set(
  [
    "@pulumi/pulumi/automation/index.js",
    "@pulumi/pulumi/typescript-shim.js",
    "@npmcli/arborist",
    "normalize-package-data",
    "@grpc/grpc-js",
    "@opentelemetry/api",
    ...fs
      .readdirSync(pulumiProto)
      .filter((name) => name.endsWith("_grpc_pb.js"))
      .map((name) => path.join(pulumiProto, name)),
  ].map((request) => require.resolve(request, { paths: [projectDir] })),
);
const load = Module._load;
Module._load = function (request, parent, isMain) {
  let resolved;
  try {
    resolved = Module._resolveFilename(request, parent, isMain);
  } catch {
    return load.apply(this, arguments);
  }
  if (!lazyModules.has(resolved)) return load.apply(this, arguments);
  let real;
  const target = () => (real ??= load.call(Module, request, parent, isMain));
  return new Proxy(
    {},
    {
      get: (_, property) => (property === "__esModule" ? true : target()[property]),
      has: (_, property) => property in target(),
      ownKeys: () => Reflect.ownKeys(target()),
      getOwnPropertyDescriptor: (_, property) => {
        const descriptor = Reflect.getOwnPropertyDescriptor(target(), property);
        return descriptor && { ...descriptor, configurable: true };
      },
    },
  );
};

// out/.build/outputs: referenced stacks' outputs by content key (synth/cache.ts), so a cluster synth reads its
// foundation's outputs instead of running the foundation program again.
require(path.join(__dirname, "cli.ts")).run(process.argv.slice(2), cacheDir("outputs"));
