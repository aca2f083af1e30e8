import { strict as assert } from "assert";
import { unknownCheckingProxy } from "@pulumi/policy";
import { at, atPath, elements, globMatches, isExactVersion, UNKNOWN } from "../../policies/lib/values";
import { UNKNOWN_VALUE } from "./support";

describe("policies: reading inputs that may be unknown", () => {
  it("maps the SDK proxy's unknown-value error to UNKNOWN instead of aborting the policy", () => {
    const props = unknownCheckingProxy({
      vpcConfig: { endpointPublicAccess: UNKNOWN_VALUE, endpointPrivateAccess: true },
    });
    assert.equal(
      at(props as { vpcConfig?: { endpointPublicAccess?: boolean } }, "vpcConfig", "endpointPublicAccess"),
      UNKNOWN,
    );
    assert.equal(atPath(props, "vpcConfig", "endpointPrivateAccess"), true);
    assert.throws(
      () => (props as { vpcConfig: { endpointPublicAccess: unknown } }).vpcConfig.endpointPublicAccess,
      /can't be known during preview/,
    );
  });

  it("treats a whole unknown object or array as unknown all the way down, and absent values as undefined", () => {
    const props = unknownCheckingProxy({ tags: UNKNOWN_VALUE, list: ["a", UNKNOWN_VALUE] });
    assert.equal(atPath(props, "tags", "environment"), UNKNOWN);
    assert.deepEqual(elements(atPath(props, "list")), ["a", UNKNOWN]);
    assert.equal(atPath(props, "missing", "deeper"), undefined);
    assert.equal(elements(undefined), undefined);
  });

  it("accepts only exact versions as pinned", () => {
    for (const version of ["1.2.3", "v9.1.4", "2.0.0-rc.1", "1.2.3+build.5"])
      assert.equal(isExactVersion(version), true, version);
    for (const version of [
      "",
      "1.2",
      "1.x",
      "1.2.*",
      "^1.2.3",
      "~1.2.3",
      ">=1.0.0",
      "latest",
      "HEAD",
      "main",
    ]) {
      assert.equal(isExactVersion(version), false, version);
    }
  });

  it("matches Fargate-style namespace globs", () => {
    assert.equal(globMatches("*", "falco"), true);
    assert.equal(globMatches("fal?o", "falco"), true);
    assert.equal(globMatches("team-*", "falco"), false);
    assert.equal(globMatches("kube.system", "kube-system"), false);
  });
});
