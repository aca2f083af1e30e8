import { existsSync } from "node:fs";
import { join } from "node:path";
import type { StackInfo } from "./stacks";
import { dayNumber } from "../infra/config/patterns";
import { foundationDir } from "../infra/foundation/contract";
import { stackNames } from "../synth/stacks";

/**
 * Expiry decisions for the scheduled `expire` workflow. Pure functions over the stack files so every rule that
 * can destroy infrastructure is unit-tested: only `environment: dev` cluster stacks are ever candidates, whatever
 * their name or dates say; foundation stacks never are.
 */

/** The only environment the expire workflow may destroy. Anything else (including unknown) is kept. */
export const EXPIRABLE_ENVIRONMENT = "dev";
/** Default number of days before expiry at which the workflow starts warning. */
export const DEFAULT_WARN_DAYS = 5;

export type ExpiryAction = "destroy" | "warn" | "keep" | "invalid";

export interface ExpiryDecision {
  readonly stack: string;
  readonly action: ExpiryAction;
  readonly expiresOn?: string;
  /** Whole days from `today` to `expiresOn` (negative once expired). */
  readonly daysLeft?: number;
  readonly reason: string;
}

export interface ExpiryPlan {
  readonly destroy: string[];
  readonly warn: ExpiryDecision[];
  readonly invalid: ExpiryDecision[];
  readonly decisions: ExpiryDecision[];
}

export { dayNumber };

/** Today's date in UTC as YYYY-MM-DD (the schedule runs in UTC). */
export function utcToday(now: Date = new Date()): string {
  return now.toISOString().slice(0, 10);
}

/**
 * One stack's fate. `expiresOn` is the last day the stack lives: it is destroyed from the day after, and warned
 * about from `warnDays` before it (inclusive) until then.
 */
export function decideExpiry(
  stack: StackInfo,
  today: string,
  warnDays: number = DEFAULT_WARN_DAYS,
): ExpiryDecision {
  const base = { stack: stack.name, expiresOn: stack.expiresOn };
  if (stack.environment !== EXPIRABLE_ENVIRONMENT) {
    return {
      ...base,
      action: "keep",
      reason: `environment is ${stack.environment ?? "not set"}; only ${EXPIRABLE_ENVIRONMENT} stacks expire`,
    };
  }
  if (stack.expiresOn === undefined) {
    return { ...base, action: "keep", reason: "dev stack without expiresOn: nothing to expire" };
  }
  const todayNumber = dayNumber(today);
  if (todayNumber === undefined) throw new Error(`today must be YYYY-MM-DD, got ${JSON.stringify(today)}`);
  const expiry = dayNumber(stack.expiresOn);
  if (expiry === undefined) {
    return {
      ...base,
      action: "invalid",
      reason: `expiresOn ${JSON.stringify(stack.expiresOn)} is not a YYYY-MM-DD date`,
    };
  }
  const daysLeft = expiry - todayNumber;
  if (daysLeft < 0) {
    return {
      ...base,
      daysLeft,
      action: "destroy",
      reason: `expired on ${stack.expiresOn} (${-daysLeft} day(s) ago)`,
    };
  }
  if (daysLeft <= warnDays) {
    return {
      ...base,
      daysLeft,
      action: "warn",
      reason: `expires on ${stack.expiresOn} (${daysLeft} day(s) left)`,
    };
  }
  return {
    ...base,
    daysLeft,
    action: "keep",
    reason: `expires on ${stack.expiresOn} (${daysLeft} day(s) left)`,
  };
}

/** A foundation stack (`foundation/Pulumi.<stack>.yaml`), as far as expiry needs to know it. */
export interface FoundationStackFile {
  readonly name: string;
  /** Relative to the repository root. */
  readonly file: string;
}

/** The foundation stacks under `<root>/foundation`, by file name only: expiry must see them even when invalid. */
export function foundationStackFiles(root: string): FoundationStackFile[] {
  if (!existsSync(join(root, foundationDir, "Pulumi.yaml"))) return [];
  return stackNames(join(root, foundationDir)).map((name) => ({
    name,
    file: `${foundationDir}/Pulumi.${name}.yaml`,
  }));
}

/**
 * Foundations never expire: one per account and region, long-lived, and every cluster stack of that region stands on
 * its VPC, runners and CI roles (its destroy guard refuses while one is left). Listed as kept, never planned.
 */
export function foundationExpiry(foundation: FoundationStackFile): ExpiryDecision {
  return {
    stack: foundation.file,
    action: "keep",
    reason:
      "a foundation stack never expires: it serves every cluster stack of its account and region; destroy it by hand (pulumi destroy in foundation/) once its cluster stacks are gone",
  };
}

/**
 * Why the expire workflow must not destroy `name`, when it names a foundation stack rather than a cluster stack
 * (`foundation/<stack>`, or a foundation stack's name that no cluster stack file has); undefined otherwise.
 */
export function foundationRefusal(
  name: string,
  clusterStacks: readonly StackInfo[],
  foundations: readonly FoundationStackFile[],
): string | undefined {
  const prefixed = name.startsWith(`${foundationDir}/`);
  const bare = prefixed ? name.slice(foundationDir.length + 1) : name;
  const foundation = foundations.find((candidate) => candidate.name === bare);
  if (!prefixed && (foundation === undefined || clusterStacks.some((stack) => stack.name === name)))
    return undefined;
  return `refusing to destroy ${name}: ${foundation?.file ?? `${foundationDir}/Pulumi.${bare}.yaml`} is a foundation stack, and expiry only ever destroys cluster stacks (${foundationExpiry(foundation ?? { name: bare, file: "" }).reason})`;
}

export function planExpiry(
  stacks: readonly StackInfo[],
  today: string,
  warnDays: number = DEFAULT_WARN_DAYS,
  foundations: readonly FoundationStackFile[] = [],
): ExpiryPlan {
  const decisions = [
    ...stacks.map((stack) => decideExpiry(stack, today, warnDays)),
    ...foundations.map(foundationExpiry),
  ];
  return {
    destroy: decisions.filter((decision) => decision.action === "destroy").map((decision) => decision.stack),
    warn: decisions.filter((decision) => decision.action === "warn"),
    invalid: decisions.filter((decision) => decision.action === "invalid"),
    decisions,
  };
}

/** Deploy-time guard: an expired dev stack must not be re-created by the next push to the default branch. */
export function shouldDeploy(stack: StackInfo, today: string): { deploy: boolean; reason: string } {
  const decision = decideExpiry(stack, today, 0);
  if (decision.action === "destroy") {
    return {
      deploy: false,
      reason: `${stack.name} ${decision.reason}; raise expiresOn in ${stack.file} to bring it back`,
    };
  }
  if (decision.action === "invalid") return { deploy: false, reason: `${stack.name}: ${decision.reason}` };
  return { deploy: true, reason: decision.reason };
}

/**
 * What the live stack itself says, read from its state (`pulumi stack output`: the program exports its
 * `environment` and `expiresOn`, the same values it tags every resource with). Empty when the stack has no such
 * output (never deployed, or deployed before the program exported them).
 */
export interface LiveStack {
  readonly environment?: string;
  readonly expiresOn?: string;
}

/** The stack outputs the expire workflow reads (infra/platform.ts exports them under these names). */
export const LIVE_OUTPUTS = { environment: "environment", expiresOn: "expiresOn" } as const;

/**
 * The destroy decision of the expire workflow, taken right before `pulumi destroy`: the stack file (of the default
 * branch) must say expired dev stack, AND the live stack must agree: its environment output is `dev` and its own
 * expiry date has passed too. A file can be edited on any branch; the live environment only changes through a
 * deploy of that stack (behind its GitHub environment's reviewers), so a relabelled prod is never destroyed.
 */
export function decideLiveExpiry(stack: StackInfo, live: LiveStack, today: string): ExpiryDecision {
  const fromFile = decideExpiry(stack, today, 0);
  if (fromFile.action !== "destroy") return fromFile;
  const keep = (reason: string): ExpiryDecision => ({ ...fromFile, action: "keep", reason });
  const environment = live.environment || undefined;
  if (environment === undefined)
    return keep(
      `the live stack has no "${LIVE_OUTPUTS.environment}" output (never deployed, or deployed before the program exported it): not destroyed by expiry`,
    );
  if (environment !== EXPIRABLE_ENVIRONMENT)
    return keep(
      `the live stack's environment is ${environment}: only live ${EXPIRABLE_ENVIRONMENT} stacks expire, whatever ${stack.file} says`,
    );
  const liveExpiry = live.expiresOn || undefined;
  const liveDay = liveExpiry === undefined ? undefined : dayNumber(liveExpiry);
  if (liveDay === undefined)
    return keep(
      `the live stack's "${LIVE_OUTPUTS.expiresOn}" output is ${JSON.stringify(liveExpiry ?? "")}, not a YYYY-MM-DD date: not destroyed`,
    );
  if (liveDay >= (dayNumber(today) as number))
    return keep(
      `${stack.file} says ${stack.expiresOn}, but the live stack was deployed with expiresOn ${liveExpiry}: not destroyed before both have passed`,
    );
  return { ...fromFile, reason: `${fromFile.reason}; the live dev stack agrees (expiresOn ${liveExpiry})` };
}
