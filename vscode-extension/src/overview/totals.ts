// The header's figures: files, tokens and the selected task's cost per mode and per
// size category, from the summary's own totals (the core adds them up).
import { formatCount, formatMoney } from "../common/format";
import { CATEGORY_LABELS, label, MODE_LABELS } from "./style";
import type { GroupTotals, WorkspaceSummary } from "./summary";

export interface TotalsRow {
  key: string;
  label: string;
  files: number;
  tokens: number;
  /** The selected task's API dollars; undefined when the totals do not have it. */
  cost: number | undefined;
}

export interface HeaderTotals {
  modes: TotalsRow[];
  categories: TotalsRow[];
  overall: { files: number; tokens: number; lines: number; cost: number | undefined };
}

const CATEGORY_ORDER = ["small", "medium", "large"];

function row(key: string, names: Record<string, string>, g: GroupTotals | undefined, task: string): TotalsRow {
  const cost = g?.costs[task];
  return { key, label: label(names, key), files: g?.files ?? 0, tokens: g?.tokens ?? 0, cost };
}

/** Keys in the preferred order first, then any other the totals carry. */
function ordered(preferred: readonly string[], present: Record<string, GroupTotals>): string[] {
  return [...new Set([...preferred, ...Object.keys(present)])];
}

export function headerTotals(summary: WorkspaceSummary, task: string): HeaderTotals {
  const { by_mode, by_category } = summary.totals;
  // The modes the plan offers (an API-only plan: no subscription row), and any other mode a file was given.
  const modes = ordered(summary.modes_offered, by_mode).map((m) => row(m, MODE_LABELS, by_mode[m], task));
  const categories = ordered(CATEGORY_ORDER, by_category).map((c) => row(c, CATEGORY_LABELS, by_category[c], task));
  const costs = modes.map((m) => m.cost).filter((c): c is number => c !== undefined);
  return {
    modes,
    categories,
    overall: {
      files: summary.totals.files,
      tokens: summary.totals.tokens,
      lines: summary.totals.lines,
      cost: costs.length > 0 ? costs.reduce((a, b) => a + b, 0) : undefined,
    },
  };
}

/** "API · 13 files · 8,148 tokens · $0.2533" */
export function rowText(r: TotalsRow): string {
  const parts = [r.label, `${formatCount(r.files)} ${r.files === 1 ? "file" : "files"}`, `${formatCount(r.tokens)} tokens`];
  if (r.cost !== undefined) parts.push(formatMoney(r.cost));
  return parts.join(" · ");
}
