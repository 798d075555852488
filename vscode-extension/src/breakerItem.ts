// The status bar item of the circuit breakers: from an `attune/breakerStatus`
// payload to its text, tooltip and colour (pure functions, unit-tested), the item
// itself (BreakerItem), and the QuickPick items to reset a breaker. Its tooltip also
// says what the user's API calls cost today (`attune/apiSpend`, from telemetry).
import * as vscode from "vscode";
import { BREAKER_ITEM_ID, Commands } from "./common/constants";
import { formatClockUtc, formatDuration, formatMoney } from "./common/format";
import { notificationsEnabled } from "./common/settings";
import { Ticker } from "./common/ticker";

export type BreakerState = "closed" | "open" | "half_open";

export interface ProviderBreaker {
  state: BreakerState;
  failure_count: number;
  opened_at: string | null;
  retry_at: string | null;
}

export interface BreakerPayload {
  providers: Record<string, ProviderBreaker>;
  open: number;
  half_open: number;
}

/** `attune/apiSpend`: the user's API calls since local midnight, from telemetry. */
export interface SpendToday {
  day: string;
  user: string;
  calls: number;
  failures: number;
  cost: number;
  store: string;
}

export type Severity = "ok" | "warning" | "error";

export interface StatusView {
  text: string;
  tooltip: string; // Markdown
  severity: Severity;
  /** True while a countdown is shown, so the caller re-renders every second. */
  ticking: boolean;
}

/** "anthropic:premium" -> {provider: "anthropic", tier: "premium"}. */
export function splitKey(key: string): { provider: string; tier: string } {
  const i = key.indexOf(":");
  return i < 0 ? { provider: key, tier: "" } : { provider: key.slice(0, i), tier: key.slice(i + 1) };
}

export function describeKey(key: string): string {
  const { provider, tier } = splitKey(key);
  return tier ? `${provider} ${tier}` : provider;
}

const STATE_LABEL: Record<BreakerState, string> = { closed: "closed", open: "open", half_open: "half-open" };

function retryText(retryAt: string | null, now: Date): string {
  if (!retryAt) return "";
  const at = Date.parse(retryAt);
  if (Number.isNaN(at)) return "";
  const left = at - now.getTime();
  return left > 0 ? `retry in ${formatDuration(left)}` : "retrying";
}

/** Keys sorted open first (earliest retry first), then half-open, then closed, then by name. */
export function sortedKeys(payload: BreakerPayload): string[] {
  const rank: Record<BreakerState, number> = { open: 0, half_open: 1, closed: 2 };
  return Object.keys(payload.providers).sort((a, b) => {
    const pa = payload.providers[a];
    const pb = payload.providers[b];
    const r = (rank[pa.state] ?? 3) - (rank[pb.state] ?? 3);
    if (r !== 0) return r;
    const ta = pa.retry_at ? Date.parse(pa.retry_at) : Infinity;
    const tb = pb.retry_at ? Date.parse(pb.retry_at) : Infinity;
    if (ta !== tb) return ta - tb;
    return a.localeCompare(b);
  });
}

/** The tooltip's line about today's API spend ("" before the server says). */
export function spendLine(spend: SpendToday | undefined): string {
  if (!spend) return "";
  const failed = spend.failures ? `, ${spend.failures} failed` : "";
  const calls = `${spend.calls} call${spend.calls === 1 ? "" : "s"}${failed}`;
  return `API spend today (${spend.user}): **${formatMoney(spend.cost)}** · ${calls}`;
}

export function tooltipTable(payload: BreakerPayload, now: Date, spend?: SpendToday): string {
  const keys = sortedKeys(payload);
  const spent = spendLine(spend);
  if (keys.length === 0) {
    return [
      "**Attune circuit breakers**",
      "",
      "No provider has been called yet: every breaker is closed.",
      ...(spent ? ["", spent] : []),
      "",
      "Click to reset a breaker.",
    ].join("\n");
  }
  const rows = keys.map((key) => {
    const { provider, tier } = splitKey(key);
    const p = payload.providers[key];
    const retry = p.retry_at ? `${formatClockUtc(new Date(p.retry_at))} (${retryText(p.retry_at, now)})` : "—";
    return `| ${provider} | ${tier || "—"} | ${STATE_LABEL[p.state] ?? p.state} | ${p.failure_count} | ${retry} |`;
  });
  return [
    "**Attune circuit breakers**",
    "",
    "| Provider | Tier | State | Failures | Retry |",
    "|---|---|---|---:|---|",
    ...rows,
    ...(spent ? ["", spent] : []),
    "",
    "Click to reset a breaker.",
  ].join("\n");
}

/** What the status bar item shows. `payload` undefined: the server has not reported yet. */
export function breakerStatusView(payload: BreakerPayload | undefined, now: Date, spend?: SpendToday): StatusView {
  if (!payload) {
    return {
      text: "$(circle-outline) Attune",
      tooltip: "**Attune**: waiting for the language server to report the circuit breakers.",
      severity: "ok",
      ticking: false,
    };
  }
  const keys = sortedKeys(payload);
  const open = keys.filter((k) => payload.providers[k].state === "open");
  const half = keys.filter((k) => payload.providers[k].state === "half_open");
  const tooltip = tooltipTable(payload, now, spend);
  if (open.length > 0) {
    const first = payload.providers[open[0]];
    const more = open.length > 1 ? ` (+${open.length - 1} more)` : "";
    const retry = retryText(first.retry_at, now);
    return {
      text: `$(error) ${describeKey(open[0])} open${more}${retry ? " · " + retry : ""}`,
      tooltip,
      severity: "error",
      ticking: retry.startsWith("retry in"),
    };
  }
  if (half.length > 0) {
    const more = half.length > 1 ? ` (+${half.length - 1} more)` : "";
    return { text: `$(warning) ${describeKey(half[0])} half-open${more} · testing`, tooltip, severity: "warning", ticking: false };
  }
  return { text: "$(pass) Attune", tooltip, severity: "ok", ticking: false };
}

/** One notification per newly opened breaker, not a storm: keys open now but not before. */
export function newlyOpened(before: BreakerPayload | undefined, after: BreakerPayload): string[] {
  return sortedKeys(after).filter(
    (k) => after.providers[k].state === "open" && before?.providers[k]?.state !== "open",
  );
}

export interface BreakerPickItem {
  label: string;
  description?: string;
  detail?: string;
  provider?: string;
  tier?: string;
}

const STATE_ICON: Record<BreakerState, string> = { closed: "$(pass)", open: "$(error)", half_open: "$(warning)" };

/** The QuickPick to reset breakers: "all" first, then each provider/tier. */
export function breakerPickItems(payload: BreakerPayload | undefined, now: Date): BreakerPickItem[] {
  const items: BreakerPickItem[] = [
    { label: "$(debug-restart) All providers and tiers", description: "reset every breaker to closed" },
  ];
  if (!payload) return items;
  for (const key of sortedKeys(payload)) {
    const p = payload.providers[key];
    const { provider, tier } = splitKey(key);
    const retry = retryText(p.retry_at, now);
    items.push({
      label: `${STATE_ICON[p.state] ?? ""} ${describeKey(key)}`.trim(),
      description: STATE_LABEL[p.state] ?? p.state,
      detail: `${p.failure_count} recent failure${p.failure_count === 1 ? "" : "s"}${retry ? " · " + retry : ""}`,
      provider,
      tier: tier || undefined,
    });
  }
  return items;
}

/** Accepts `attune/apiSpend`'s params only when they have the documented shape. */
export function parseSpendPayload(value: unknown): SpendToday | undefined {
  if (!value || typeof value !== "object") return undefined;
  const v = value as Record<string, unknown>;
  const numbers = [v.calls, v.failures, v.cost];
  if (typeof v.day !== "string" || typeof v.user !== "string" || typeof v.store !== "string") return undefined;
  if (!numbers.every((n) => typeof n === "number" && Number.isFinite(n) && n >= 0)) return undefined;
  return { day: v.day, user: v.user, calls: v.calls as number, failures: v.failures as number, cost: v.cost as number, store: v.store };
}

/** Accepts the notification's params only when they have the documented shape. */
export function parseBreakerPayload(value: unknown): BreakerPayload | undefined {
  if (!value || typeof value !== "object") return undefined;
  const v = value as Record<string, unknown>;
  if (!v.providers || typeof v.providers !== "object") return undefined;
  const providers: Record<string, ProviderBreaker> = {};
  for (const [key, raw] of Object.entries(v.providers as Record<string, unknown>)) {
    if (!raw || typeof raw !== "object") continue;
    const r = raw as Record<string, unknown>;
    const state = r.state === "open" || r.state === "half_open" ? r.state : "closed";
    providers[key] = {
      state,
      failure_count: typeof r.failure_count === "number" ? r.failure_count : 0,
      opened_at: typeof r.opened_at === "string" ? r.opened_at : null,
      retry_at: typeof r.retry_at === "string" ? r.retry_at : null,
    };
  }
  const count = (s: BreakerState) => Object.values(providers).filter((p) => p.state === s).length;
  return { providers, open: count("open"), half_open: count("half_open") };
}

/**
 * The status bar item: shows the last payload the server sent, counts down to an
 * open breaker's retry every second, and warns once per newly opened breaker.
 */
export class BreakerItem implements vscode.Disposable {
  private payload: BreakerPayload | undefined;
  private spend: SpendToday | undefined;
  private readonly ticker = new Ticker(() => this.render(), 1000);
  private readonly item: vscode.StatusBarItem;

  constructor(
    private readonly output: Pick<vscode.LogOutputChannel, "warn">,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.item = vscode.window.createStatusBarItem(BREAKER_ITEM_ID, vscode.StatusBarAlignment.Right, 100);
    this.item.name = "Attune circuit breakers";
    this.item.command = Commands.showBreakerStatus;
    this.render();
    this.item.show();
  }

  /** The last payload (undefined until the server reports, or after it stopped). */
  get current(): BreakerPayload | undefined {
    return this.payload;
  }

  private render(): void {
    const view = breakerStatusView(this.payload, this.now(), this.spend);
    this.item.text = view.text;
    const tip = new vscode.MarkdownString(view.tooltip);
    tip.supportThemeIcons = true;
    this.item.tooltip = tip;
    this.item.backgroundColor =
      view.severity === "error"
        ? new vscode.ThemeColor("statusBarItem.errorBackground")
        : view.severity === "warning"
          ? new vscode.ThemeColor("statusBarItem.warningBackground")
          : undefined;
    this.ticker.set(view.ticking);
  }

  /** The `attune/breakerStatus` notification. */
  onNotification(params: unknown): void {
    const next = parseBreakerPayload(params);
    if (!next) {
      this.output.warn("Ignored an attune/breakerStatus notification of an unexpected shape.");
      return;
    }
    const opened = newlyOpened(this.payload, next);
    this.payload = next;
    this.render();
    if (opened.length && notificationsEnabled()) {
      void vscode.window
        .showWarningMessage(`Attune: circuit breaker open for ${opened.map(describeKey).join(", ")}.`, "Show Breakers")
        .then((pick) => pick && vscode.commands.executeCommand(Commands.showBreakerStatus));
    }
  }

  /** The `attune/apiSpend` notification. */
  onSpend(params: unknown): void {
    const next = parseSpendPayload(params);
    if (!next) {
      this.output.warn("Ignored an attune/apiSpend notification of an unexpected shape.");
      return;
    }
    this.spend = next;
    this.render();
  }

  /** A fresh payload from attune.server.breakerStatus (no notification for it). */
  update(payload: BreakerPayload): void {
    this.payload = payload;
    this.render();
  }

  /** Breaker states from a server that is gone would be stale: back to "waiting". */
  clear(): void {
    if (!this.payload && !this.spend) return;
    this.payload = undefined;
    this.spend = undefined;
    this.render();
  }

  dispose(): void {
    this.ticker.dispose();
    this.item.dispose();
  }
}
