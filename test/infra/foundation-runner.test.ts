import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError } from "../../infra/config";
import { maxRunnerActors, resolveFoundationConfig } from "../../infra/foundation/config";
import { exactIdPattern, runnerWebhookFilterGroups } from "../../infra/foundation/runner";
import { SynthResult } from "../../synth";
import { ofType, synthesizedStack } from "../support/stacks";
import { upstreamFact } from "../upstream";

/**
 * Who can start an in-VPC runner build. The webhook is the gate (a pull request can edit any workflow file, so the
 * workflows' own `if:` guards are defence in depth): it must start builds only for jobs queued by the accounts in
 * `github.runnerActorIds`, of this repository, with filters CodeBuild really applies to workflow-job events.
 */

interface FilterFacts {
  filterTypes: string[];
  githubEvents: string[];
  worksWith: Record<string, { events: string[] | "any"; scopes: string[] }>;
}
const codebuild = upstreamFact<FilterFacts>("botocore-1.43.67.codebuild-webhook-filters.json").facts;

interface Filter {
  type: string;
  pattern: string;
  excludeMatchedPattern?: boolean;
}
/** A `workflow_job` delivery as CodeBuild sees it: the mapped event type and the sender's account id. */
interface Delivery {
  event: string;
  senderId: string;
}

/**
 * CodeBuild's decision for one delivery (user guide, "GitHub webhook events"): a build starts when any filter
 * group passes, a group passes when every filter passes; EVENT lists event types, ACTOR_ACCOUNT_ID is a regular
 * expression over the sender's account id. Any other filter type makes this stand-in throw, so a new filter must
 * come with its meaning here.
 */
function startsBuild(groups: { filters: Filter[] }[], delivery: Delivery): boolean {
  return groups.some(({ filters }) =>
    filters.every((filter) => {
      const matched =
        filter.type === "EVENT"
          ? filter.pattern
              .split(",")
              .map((event) => event.trim())
              .includes(delivery.event)
          : filter.type === "ACTOR_ACCOUNT_ID"
            ? new RegExp(filter.pattern).test(delivery.senderId)
            : (() => {
                throw new Error(`no stand-in for ${filter.type}`);
              })();
      return filter.excludeMatchedPattern ? !matched : matched;
    }),
  );
}

const trusted = ["583231", "9919"];
const groups = runnerWebhookFilterGroups(trusted) as { filters: Filter[] }[];

describe("runner webhook: only trusted accounts start builds", () => {
  it("starts a build for a job queued by each trusted account", () => {
    for (const senderId of trusted)
      assert.equal(startsBuild(groups, { event: "WORKFLOW_JOB_QUEUED", senderId }), true, senderId);
  });

  it("starts none for any other sender, a fork's author included, even one whose id contains a trusted one", () => {
    for (const senderId of ["1", "58323", "5832311", "1583231", "99199", "919", "583231|9919", ""])
      assert.equal(
        startsBuild(groups, { event: "WORKFLOW_JOB_QUEUED", senderId }),
        false,
        `sender ${senderId}`,
      );
  });

  it("starts none for other events of the repository, whoever sends them", () => {
    for (const event of codebuild.githubEvents.filter((name) => name !== "WORKFLOW_JOB_QUEUED"))
      assert.equal(startsBuild(groups, { event, senderId: trusted[0] }), false, event);
  });

  it("uses only filter types CodeBuild applies to WORKFLOW_JOB_QUEUED on a repository webhook (botocore 1.43.67)", () => {
    assert.equal(groups.length, 1, "one group: its filters must all pass (groups are alternatives)");
    for (const { type, pattern } of groups[0].filters) {
      assert.ok(codebuild.filterTypes.includes(type), type);
      const applies = codebuild.worksWith[type];
      assert.ok(
        applies.events === "any" || applies.events.includes("WORKFLOW_JOB_QUEUED"),
        `${type} is ignored for workflow jobs`,
      );
      assert.ok(applies.scopes.includes("repository"), `${type} works only on organization/global webhooks`);
      if (type === "EVENT") assert.ok(codebuild.githubEvents.includes(pattern));
    }
    assert.deepEqual(
      groups[0].filters.map((filter) => filter.type),
      ["EVENT", "ACTOR_ACCOUNT_ID"],
    );
    // The filter types that would not tie builds to this repository or to trusted events on this webhook.
    assert.deepEqual(codebuild.worksWith.REPOSITORY_NAME.scopes, ["GITHUB_ORGANIZATION", "GITHUB_GLOBAL"]);
    assert.ok(!codebuild.worksWith.HEAD_REF.events.includes("WORKFLOW_JOB_QUEUED"));
    assert.ok(!codebuild.worksWith.BASE_REF.events.includes("WORKFLOW_JOB_QUEUED"));
  });

  it("uses only filter types @pulumi/aws (the pinned provider) accepts", () => {
    const inputs = readFileSync(
      join(__dirname, "..", "..", "node_modules", "@pulumi", "aws", "types", "input.d.ts"),
      "utf8",
    );
    const block = /interface WebhookFilterGroupFilter \{[\s\S]*?\n {4}\}/.exec(inputs)?.[0] ?? "";
    const valid = /Valid values for this parameter are: ([^.]+)\./.exec(block)?.[1] ?? "";
    const accepted = [...valid.matchAll(/`([A-Z_]+)`/g)].map((match) => match[1]);
    assert.ok(accepted.includes("EVENT"), `could not read the valid types from input.d.ts: ${valid}`);
    for (const { type } of groups[0].filters) assert.ok(accepted.includes(type), type);
  });

  it("builds its pattern from digits only, so a configured value cannot widen it", () => {
    assert.equal(exactIdPattern(["1", "22"]), "^(1|22)$");
    for (const bad of [[], [".*"], ["1|.*"], ["octocat"], ["12 "]])
      assert.throws(() => exactIdPattern(bad), /must be digits/, JSON.stringify(bad));
  });
});

describe("runner webhook and project (synthesized foundation)", () => {
  let result: SynthResult;
  before(async () => {
    result = await synthesizedStack("foundation-eu-west-1");
  });

  it("is a webhook of the project's own repository: no organization or global scope, created by CodeBuild", () => {
    const hooks = ofType(result, "aws:codebuild/webhook:Webhook");
    assert.equal(hooks.length, 3);
    for (const hook of hooks) {
      assert.equal(hook.inputs.scopeConfiguration, undefined);
      assert.equal(hook.inputs.manualCreation, undefined);
    }
    for (const project of ofType(result, "aws:codebuild/project:Project")) {
      const source = project.inputs.source as { type: string; location: string; auth: { type: string } };
      assert.equal(source.type, "GITHUB");
      assert.equal(source.location, "https://github.com/acme/eks-gitops-platform.git");
      assert.equal(source.auth.type, "CODECONNECTIONS");
    }
  });
});

describe("foundation config: github.runnerActorIds", () => {
  const base = {
    accountId: "111122223333",
    github: {
      repository: "acme/eks-gitops-platform",
      connectionArn:
        "arn:aws:codeconnections:eu-west-1:111122223333:connection/00000000-0000-4000-8000-000000000000",
      runnerActorIds: [583231],
    },
    environments: { dev: {} },
  };
  const resolve = (runnerActorIds: unknown) =>
    resolveFoundationConfig(
      { ...base, github: { ...base.github, runnerActorIds } },
      { project: "eks-gitops-foundation", stack: "eu-west-1", region: "eu-west-1" },
    );
  function refused(runnerActorIds: unknown, key: string, message: RegExp) {
    try {
      resolve(runnerActorIds);
    } catch (error) {
      assert.ok(error instanceof ConfigError, String(error));
      assert.ok(
        error.problems.some((problem) => problem.key === key && message.test(problem.message)),
        error.message,
      );
      return;
    }
    assert.fail(`${JSON.stringify(runnerActorIds)} was accepted`);
  }

  it("takes numbers or digit strings and hands the webhook strings", () => {
    assert.deepEqual(resolve([583231, "9919"]).github.runnerActorIds, ["583231", "9919"]);
  });

  it("is required: without it no one, or anyone, would start builds", () =>
    refused(
      undefined,
      "eks-gitops-foundation:github.runnerActorIds",
      /numeric GitHub account ids.*gh api users\/<login> --jq \.id/,
    ));

  it("refuses an empty list, a login, a non-id, a duplicate and too many accounts", () => {
    refused([], "eks-gitops-foundation:github.runnerActorIds", /at least one GitHub account id/);
    refused(["octocat"], "eks-gitops-foundation:github.runnerActorIds.0", /not a login/);
    refused([1, ".*"], "eks-gitops-foundation:github.runnerActorIds.1", /numeric GitHub account id/);
    refused([0], "eks-gitops-foundation:github.runnerActorIds.0", /numeric GitHub account id/);
    refused([1.5], "eks-gitops-foundation:github.runnerActorIds.0", /numeric GitHub account id/);
    refused([7, "7"], "eks-gitops-foundation:github.runnerActorIds", /twice/);
    refused(
      Array.from({ length: maxRunnerActors + 1 }, (_, index) => index + 1),
      "eks-gitops-foundation:github.runnerActorIds",
      new RegExp(`at most ${maxRunnerActors} accounts`),
    );
  });
});
