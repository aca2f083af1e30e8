import type { CostEstimate } from "./estimate";

const usd = (value: number) => `$${value.toFixed(2)}`;
const signed = (value: number) => `${value < 0 ? "−" : "+"}${usd(Math.abs(value))}`;

/** Plain text for the terminal (`npm run synth` prints one per stack). */
export function formatCostEstimate(estimate: CostEstimate): string {
  const width = Math.max(24, ...estimate.lines.map((line) => line.item.length));
  const rows = estimate.lines.map(
    (line) =>
      `  ${line.item.padEnd(width)}  ${usd(line.monthly).padStart(10)}   ${line.basis}` +
      (line.note ? `\n  ${"".padEnd(width)}  ${"".padStart(10)}   (${line.note})` : ""),
  );
  const out = [
    `Estimated fixed monthly cost of stack ${estimate.stack} (${estimate.region}, ${estimate.currency}, prices as of ${estimate.asOf}):`,
    ...rows,
    `  ${"Total".padEnd(width)}  ${usd(estimate.total).padStart(10)}${estimate.notEstimated.length > 0 ? "   (lower bound: see not estimated)" : ""}`,
  ];
  for (const item of estimate.notEstimated) {
    out.push(`  not estimated: ${item.item} (${item.resources.join(", ")}): ${item.reason}`);
  }
  out.push(...estimate.assumptions.map((assumption) => `  assumes ${assumption}`));
  return out.join("\n");
}

/**
 * Markdown for the pull-request comment: the head estimate per item, the base figure and the change. `base` is
 * undefined for a stack the base branch does not have.
 */
export function formatCostComparison(base: CostEstimate | undefined, head: CostEstimate | undefined): string {
  const estimate = head ?? base;
  if (!estimate) return "";
  const title = `#### Estimated fixed monthly cost: \`${estimate.stack}\` (${estimate.region})`;
  if (!head)
    return `${title}\n\nThe stack is removed by this change: ${signed(-(base as CostEstimate).total)} a month.\n`;
  const items = [
    ...new Set([...(base?.lines ?? []).map((line) => line.item), ...head.lines.map((line) => line.item)]),
  ];
  const figure = (estimateOf: CostEstimate | undefined, item: string) =>
    estimateOf?.lines.find((line) => line.item === item)?.monthly ?? 0;
  const rows = items.map((item) => {
    const before = figure(base, item);
    const after = figure(head, item);
    const basis = head.lines.find((line) => line.item === item)?.basis ?? "removed";
    return `| ${item} | ${base ? usd(before) : "—"} | ${usd(after)} | ${base ? change(before, after) : "new"} | ${basis.replace(/\|/g, "\\|")} |`;
  });
  const totalChange = base ? change(base.total, head.total) : "new stack";
  const out = [
    title,
    "",
    `**${usd(head.total)} a month** (${base ? `base ${usd(base.total)}, ${totalChange}` : "new stack"})${head.notEstimated.length > 0 ? ", a lower bound: some items are not estimated" : ""}.`,
    "",
    "| Item | Base | Head | Change | Basis |",
    "| --- | ---: | ---: | ---: | --- |",
    ...rows,
    `| **Total** | ${base ? `**${usd(base.total)}**` : "—"} | **${usd(head.total)}** | **${totalChange}** | |`,
  ];
  if (head.notEstimated.length > 0) {
    out.push("", "Not estimated:");
    out.push(
      ...head.notEstimated.map((item) => `- ${item.item} (${item.resources.join(", ")}): ${item.reason}`),
    );
  }
  out.push(
    "",
    `<sub>List prices as of ${head.asOf} from ops/cost/prices.ts; assumes ${head.assumptions.join("; ")}.</sub>`,
    "",
  );
  return out.join("\n");
}

function change(before: number, after: number): string {
  const delta = Math.round((after - before) * 100) / 100;
  if (delta === 0) return "±$0.00";
  const percent =
    before > 0 ? ` (${delta > 0 ? "+" : "−"}${Math.abs((delta / before) * 100).toFixed(1)}%)` : "";
  return `${signed(delta)}${percent}`;
}
