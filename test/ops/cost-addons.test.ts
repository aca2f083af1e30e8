import { strict as assert } from "node:assert";
import { estimateMonthlyCost } from "../../ops/cost";
import { synthesizedStack } from "../support/stacks";

describe("cost estimate: the everyday add-ons", () => {
  it("prices no fixed charge for them and says what teams' use of them bills", async () => {
    const staging = estimateMonthlyCost(await synthesizedStack("staging"), { date: "2026-11-28" });
    const notes = staging.assumptions.join("\n");
    assert.match(notes, /AWS Load Balancer Controller creates an NLB per Service .* billed per hour/);
    assert.match(notes, /Secrets Manager bills each per month/);
    assert.match(notes, /"platform-staging\/"/);
    assert.match(notes, /1 Route 53 hosted zone\(s\) .* DNS queries .* add nothing/);
    // Their IAM roles, role policies and Pod Identity associations are free, not "not estimated".
    assert.ok(
      !staging.notEstimated.some((item) => /iam|podIdentity/.test(item.item)),
      JSON.stringify(staging.notEstimated),
    );

    const dev = estimateMonthlyCost(await synthesizedStack("dev"), { date: "2026-11-28" });
    const devNotes = dev.assumptions.join("\n");
    assert.doesNotMatch(devNotes, /Secrets Manager/, "External Secrets is off in dev");
    assert.doesNotMatch(devNotes, /Load Balancer Controller/);
    assert.match(devNotes, /Auto Mode creates an NLB per Service/);
  });
});
