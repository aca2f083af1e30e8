import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { z } from "zod";
import { foundationSchema } from "../../infra/foundation/config";

/** Dotted key paths of a zod object schema (through defaults, optionals and records; a record's key is `<…>`). */
function keyPaths(schema: z.ZodType, prefix = ""): string[] {
  const def = (schema as unknown as { def: { type: string; innerType?: z.ZodType; valueType?: z.ZodType } })
    .def;
  if (def.type === "default" || def.type === "optional" || def.type === "pipe") {
    return def.innerType ? keyPaths(def.innerType, prefix) : [];
  }
  if (def.type === "record" && def.valueType instanceof z.ZodObject) {
    return [prefix, ...keyPaths(def.valueType, `${prefix}.<`)];
  }
  if (schema instanceof z.ZodObject) {
    return Object.entries(schema.shape).flatMap(([key, value]) => {
      const here = prefix.endsWith("<") ? `${prefix}env>.${key}` : prefix ? `${prefix}.${key}` : key;
      const nested = keyPaths(value as z.ZodType, here);
      return nested.length > 0 ? nested : [here];
    });
  }
  return [prefix];
}

describe("foundation: every config key is documented", () => {
  const doc = fs.readFileSync(path.join(__dirname, "..", "..", "docs", "pipeline.md"), "utf8");
  const section = doc.split("### Foundation config")[1]?.split("\n### ")[0] ?? "";

  it("has the section the config's unknown-key error points to", () => {
    assert.ok(section.length > 0, 'docs/pipeline.md has no "### Foundation config" section');
  });

  it("lists each key of foundationSchema in that section's table", () => {
    const documented = new Set([...section.matchAll(/^\| `([^`]+)`/gm)].map((match) => match[1]));
    const keys = keyPaths(foundationSchema).map((key) =>
      key === "environments" ? "environments.<dev\\|staging\\|prod>" : key,
    );
    assert.ok(
      keys.includes("network.clusterCidrs") && keys.includes("environments.<env>.previewClusterAccess"),
    );
    const missing = keys.filter((key) => !documented.has(key));
    assert.deepEqual(missing, [], `undocumented foundation keys: ${missing.join(", ")}`);
  });
});
