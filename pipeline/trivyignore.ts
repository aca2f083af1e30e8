import { parse } from "yaml";
import { dayNumber } from "./expiry";

/**
 * Rules for `.trivyignore.yaml`: every accepted finding says why (`statement`) and until when (`expired_at`).
 * Trivy itself stops applying an entry after `expired_at`, so the finding comes back and the gate fails again;
 * this check makes sure nobody can add an entry without those two fields or with an open-ended date.
 */

export const ignoreSections = ["vulnerabilities", "misconfigurations", "secrets", "licenses"] as const;
/** An acceptance longer than this is not an exception any more; re-review instead. */
export const MAX_IGNORE_DAYS = 365;

export interface IgnoreCheck {
  readonly errors: string[];
  /** Entries past their date: harmless to Trivy, but dead weight that hides what is really accepted. */
  readonly expired: string[];
  readonly entries: number;
}

export function checkIgnoreFile(text: string, today: string, maxDays: number = MAX_IGNORE_DAYS): IgnoreCheck {
  const errors: string[] = [];
  const expired: string[] = [];
  let entries = 0;
  const todayNumber = dayNumber(today);
  if (todayNumber === undefined) throw new Error(`today must be YYYY-MM-DD, got ${JSON.stringify(today)}`);
  const document: unknown = parse(text) ?? {};
  if (typeof document !== "object" || Array.isArray(document))
    return { errors: ["not a YAML map"], expired, entries };
  for (const key of Object.keys(document as object)) {
    if (!(ignoreSections as readonly string[]).includes(key)) {
      errors.push(`unknown section ${JSON.stringify(key)} (Trivy reads ${ignoreSections.join(", ")})`);
    }
  }
  for (const section of ignoreSections) {
    const list = (document as Record<string, unknown>)[section];
    if (list === undefined || list === null) continue;
    if (!Array.isArray(list)) {
      errors.push(`${section}: must be a list`);
      continue;
    }
    list.forEach((entry: unknown, index) => {
      entries += 1;
      const item = (entry ?? {}) as Record<string, unknown>;
      const label = `${section}[${index}]${typeof item.id === "string" ? ` ${item.id}` : ""}`;
      if (typeof item.id !== "string" || item.id.trim() === "") errors.push(`${label}: missing id`);
      if (typeof item.statement !== "string" || item.statement.trim().length < 10) {
        errors.push(`${label}: missing statement (why the finding is accepted, at least a sentence)`);
      }
      const rawDate =
        item.expired_at instanceof Date ? item.expired_at.toISOString().slice(0, 10) : item.expired_at;
      const expiry = typeof rawDate === "string" ? dayNumber(rawDate) : undefined;
      if (expiry === undefined) {
        errors.push(`${label}: missing or invalid expired_at (YYYY-MM-DD)`);
        return;
      }
      if (expiry < todayNumber) expired.push(`${label}: expired on ${String(rawDate)}`);
      if (expiry - todayNumber > maxDays)
        errors.push(`${label}: expired_at ${String(rawDate)} is more than ${maxDays} days away`);
    });
  }
  return { errors, expired, entries };
}
