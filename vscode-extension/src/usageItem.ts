// The status bar item of the subscription's usage, from the server's `attune/usage`
// notification (Claude Code's own logs): the current 5-hour block's tokens and the
// time left in it, counted down here every minute from the block's `end` (the server
// does not send the time alone), and the share of the block budget when one is set.
// Pure functions for the texts (unit-tested), then the item itself.
import * as vscode from "vscode";
import { USAGE_ITEM_ID } from "./common/constants";
import { formatClockUtc, formatCount, formatMoney } from "./common/format";
import { Ticker } from "./common/ticker";

export interface UsageTotals {
  input_tokens: number;
  output_tokens: number;
  cache_creation_tokens: number;
  cache_read_tokens: number;
  total_tokens: number;
  cost_usd: number | null;
}

export interface UsageBlock extends UsageTotals {
  start: string;
  end: string;
  is_active: boolean;
}

export interface UsagePayload {
  found: boolean;
  current_block: UsageBlock | null;
  today: (UsageTotals & { key: string }) | null;
  budget_tokens: number | null;
  budget_used_percent: number | null;
}

export interface UsageView {
  visible: boolean;
  text: string;
  tooltip: string; // Markdown
  warning: boolean;
}

/** Over this share of the block budget the item turns to the warning colour (the
 * server's recommendation turns medium and large modules to the API there too). */
export const WARNING_PERCENT = 90;

/** 980 -> "980", 164_321 -> "164K", 1_250_000 -> "1.3M" (the status bar has little room). */
export function compactCount(n: number): string {
  if (n < 1000) return String(Math.round(n));
  if (n < 999_500) return `${Math.round(n / 1000)}K`;
  const m = n / 1_000_000;
  return `${m < 9.95 ? m.toFixed(1) : Math.round(m)}M`;
}

/** 12_180_000 ms -> "3 h 23 min left", 300_000 -> "5 min left", under a minute -> "< 1 min left". */
export function timeLeftText(ms: number): string {
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 1) return "< 1 min left";
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return h > 0 ? `${h} h ${m} min left` : `${m} min left`;
}

const num = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) ? v : 0);
const numOrNull = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

function totals(v: Record<string, unknown>): UsageTotals {
  return {
    input_tokens: num(v.input_tokens),
    output_tokens: num(v.output_tokens),
    cache_creation_tokens: num(v.cache_creation_tokens),
    cache_read_tokens: num(v.cache_read_tokens),
    total_tokens: num(v.total_tokens),
    cost_usd: numOrNull(v.cost_usd),
  };
}

/** Accepts the notification's params only when they have the documented shape. */
export function parseUsagePayload(value: unknown): UsagePayload | undefined {
  if (!value || typeof value !== "object") return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.found !== "boolean") return undefined;
  const b = v.current_block && typeof v.current_block === "object" ? (v.current_block as Record<string, unknown>) : undefined;
  const t = v.today && typeof v.today === "object" ? (v.today as Record<string, unknown>) : undefined;
  return {
    found: v.found,
    current_block:
      b && typeof b.end === "string"
        ? { ...totals(b), start: typeof b.start === "string" ? b.start : b.end, end: b.end, is_active: b.is_active !== false }
        : null,
    today: t ? { ...totals(t), key: typeof t.key === "string" ? t.key : "" } : null,
    budget_tokens: numOrNull(v.budget_tokens),
    budget_used_percent: numOrNull(v.budget_used_percent),
  };
}

function tokensLine(t: UsageTotals): string {
  const cost = t.cost_usd === null ? "not priced" : `API-equivalent ${formatMoney(t.cost_usd)}`;
  return (
    `${formatCount(t.total_tokens)} tokens (input ${formatCount(t.input_tokens)} · output ${formatCount(t.output_tokens)} · ` +
    `cache write ${formatCount(t.cache_creation_tokens)} · cache read ${formatCount(t.cache_read_tokens)}) · ${cost}`
  );
}

/** The block still running at `now` (the payload may be minutes old), or undefined. */
function runningBlock(p: UsagePayload, now: Date): UsageBlock | undefined {
  const b = p.current_block;
  return b && b.is_active && Date.parse(b.end) > now.getTime() ? b : undefined;
}

/** What the item shows. `payload` undefined: not reported yet (hidden). */
export function usageView(payload: UsagePayload | undefined, now: Date): UsageView {
  if (!payload?.found) return { visible: false, text: "", tooltip: "", warning: false };
  const block = runningBlock(payload, now);
  const percent = block ? payload.budget_used_percent : null;
  const lines = ["**Claude subscription usage** (from Claude Code's logs)", ""];
  let text: string;
  if (block) {
    const left = timeLeftText(Date.parse(block.end) - now.getTime());
    text = `$(pulse) ${compactCount(block.total_tokens)} · ${left}`;
    if (percent !== null) text += ` · ${Math.round(percent)}% of block`;
    lines.push(
      `Current 5-hour block: ${formatClockUtc(new Date(block.start))} – ${formatClockUtc(new Date(block.end))}, ${left}`,
      "",
      tokensLine(block),
    );
    if (percent !== null && payload.budget_tokens !== null) {
      lines.push("", `Block budget: ${percent.toFixed(1)}% of ${formatCount(payload.budget_tokens)} tokens used`);
    }
  } else {
    text = "$(pulse) no active block";
    lines.push("No 5-hour block is running: the next message to Claude starts one.");
  }
  if (payload.today) lines.push("", `Today (${payload.today.key || "UTC"}): ${tokensLine(payload.today)}`);
  return { visible: true, text, tooltip: lines.join("\n"), warning: percent !== null && percent > WARNING_PERCENT };
}

/** The status bar item: the last payload, re-rendered every minute while a block runs. */
export class UsageItem implements vscode.Disposable {
  private payload: UsagePayload | undefined;
  private readonly ticker = new Ticker(() => this.render(), 60_000);
  private readonly item: vscode.StatusBarItem;

  constructor(
    private readonly output: Pick<vscode.LogOutputChannel, "warn">,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.item = vscode.window.createStatusBarItem(USAGE_ITEM_ID, vscode.StatusBarAlignment.Right, 101);
    this.item.name = "Attune subscription usage";
    this.render();
  }

  get current(): UsagePayload | undefined {
    return this.payload;
  }

  private render(): void {
    const now = this.now();
    const view = usageView(this.payload, now);
    if (!view.visible) {
      this.item.hide();
    } else {
      this.item.text = view.text;
      const tip = new vscode.MarkdownString(view.tooltip);
      tip.supportThemeIcons = true;
      this.item.tooltip = tip;
      this.item.backgroundColor = view.warning ? new vscode.ThemeColor("statusBarItem.warningBackground") : undefined;
      this.item.show();
    }
    this.ticker.set(view.visible && this.payload !== undefined && runningBlock(this.payload, now) !== undefined);
  }

  /** The `attune/usage` notification. */
  onNotification(params: unknown): void {
    const next = parseUsagePayload(params);
    if (!next) {
      this.output.warn("Ignored an attune/usage notification of an unexpected shape.");
      return;
    }
    this.payload = next;
    this.render();
  }

  /** A stopped server's usage would go stale: hidden until the next notification. */
  clear(): void {
    this.payload = undefined;
    this.render();
  }

  dispose(): void {
    this.ticker.dispose();
    this.item.dispose();
  }
}
