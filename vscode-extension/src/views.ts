// Read-only Markdown views: "Attune: Show Auth Status" and a lens's details. The
// renderers are pure functions over the server's answers (unknown fields are still
// shown); ReadOnlyViews shows their Markdown beside the editor.
import * as vscode from "vscode";
import { VIEW_SCHEME } from "./common/constants";
import { asText, formatCount } from "./common/format";
import { findProsCons, modeLabel, tierLabel, type ProsCons } from "./wizard";

type Dict = Record<string, unknown>;

function isDict(v: unknown): v is Dict {
  return !!v && typeof v === "object" && !Array.isArray(v);
}

function cell(v: unknown): string {
  const text = typeof v === "string" ? v : JSON.stringify(v);
  return (text ?? "").replace(/\|/g, "\\|").replace(/\n/g, " ");
}

function jsonBlock(v: unknown): string {
  return "```json\n" + JSON.stringify(v, null, 2) + "\n```";
}

const STRATEGY_FIELDS = [
  "subscription_tier",
  "default_mode",
  "small_module_threshold",
  "medium_module_threshold",
  "loc_to_tokens_multiplier",
  "prefer_subscription",
  "cost_optimization",
  "setup_completed",
];

function formulaSection(s: Dict): string[] {
  const small = s.small_module_threshold ?? 500;
  const medium = s.medium_module_threshold ?? 2000;
  const mult = s.loc_to_tokens_multiplier ?? 4;
  const out = [
    "## Thresholds and formulas",
    "",
    `- Size: **small** below ${formatCount(Number(small))} lines of code, **medium** below ${formatCount(Number(medium))}, **large** from there on (lines of code as cloc counts them: no blank or comment lines).`,
    `- Tokens ≈ lines of code × ${asText(mult)}.`,
    "- API cost: each stage of the review pipeline priced per token from the model registry; on a subscription the money is $0 and the same tokens count against the plan's quota.",
  ];
  const formula = s.formula ?? s.pipeline ?? s.pipeline_description;
  if (typeof formula === "string" && formula.trim()) {
    out.push("", "Pipeline:", "", "```", formula.trim(), "```");
  }
  return out;
}

export function renderAuthStatus(status: unknown): string {
  if (!isDict(status)) return "# Attune: auth status\n\nThe server gave no status.\n";
  const lines = ["# Attune: auth status", ""];
  if (typeof status.path === "string") {
    const exists = status.file_exists === false ? " (not saved yet: these are the defaults)" : "";
    lines.push(`Strategy file: \`${status.path}\`${exists}`, "");
  }
  lines.push("| Setting | Value |", "|---|---|");
  for (const key of STRATEGY_FIELDS) {
    if (!(key in status)) continue;
    let value = cell(status[key]);
    if (key === "subscription_tier") value += ` (${tierLabel(String(status[key]))})`;
    if (key === "default_mode") value += ` (${modeLabel(String(status[key]))})`;
    lines.push(`| ${key} | ${value} |`);
  }
  const rest = Object.keys(status).filter(
    (k) => !STRATEGY_FIELDS.includes(k) && !["path", "file_exists", "formula", "pipeline", "pipeline_description"].includes(k),
  );
  for (const key of rest) lines.push(`| ${key} | ${cell(status[key])} |`);
  lines.push("", ...formulaSection(status), "");
  return lines.join("\n");
}

function prosConsSection(pc: ProsCons): string[] {
  const out: string[] = ["## Subscription, API or auto", ""];
  for (const mode of ["auto", "subscription", "api"] as const) {
    const e = pc[mode];
    if (!e) continue;
    out.push(`### ${modeLabel(mode)}`, "");
    if (e.recommended_mode) out.push(`Recommended here: **${e.recommended_mode}**${e.reason ? " — " + e.reason : ""}`, "");
    for (const p of e.pros ?? []) out.push(`- ✅ ${p}`);
    for (const c of e.cons ?? []) out.push(`- ⚠️ ${c}`);
    if (e.estimate) {
      const est = e.estimate;
      out.push(
        `- Estimate: ${est.mode ?? mode}, $${est.monetary_cost ?? 0}` +
          (est.quota_cost ? `, ≈${formatCount(est.quota_cost)} tokens of quota` : "") +
          (est.fits_in_context === false ? ", does not fit in the context" : ""),
      );
    }
    out.push("");
  }
  return out;
}

/** The lens click: the server's details object, readable. */
export function renderDetails(details: unknown, fileLabel: string): string {
  const lines = [`# Attune: ${fileLabel}`, ""];
  if (!isDict(details)) return lines.concat(["No details from the server.", ""]).join("\n");
  const report = isDict(details.report) ? details.report : isDict(details.recommendation) ? details.recommendation : details;
  if (typeof report.lines === "number") {
    lines.push(
      `**${asText(report.category).replace(/^./, (c) => c.toUpperCase())} module** · ${formatCount(report.lines)} lines of code` +
        (report.generated ? " · generated" : ""),
      "",
    );
  }
  if (typeof report.mode === "string") {
    lines.push(`Recommended: **${report.mode}**${report.reason ? " — " + asText(report.reason) : ""}`, "");
  }
  const pc = findProsCons(details);
  if (pc) lines.push(...prosConsSection(pc));
  const thresholds = isDict(details.thresholds) ? details.thresholds : isDict(details.strategy) ? details.strategy : details;
  lines.push(...formulaSection({ ...thresholds, formula: details.formula ?? details.pipeline }));
  lines.push("", "<details><summary>Raw</summary>", "", jsonBlock(details), "", "</details>", "");
  return lines.join("\n");
}

/** Serves the views' Markdown under the attune-view: scheme; nothing is written to disk. */
export class ReadOnlyViews implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly contents = new Map<string, string>();
  private readonly emitter = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.emitter.event;

  /** Registers the provider; dispose the result (or this) to unregister. */
  register(): vscode.Disposable {
    return vscode.workspace.registerTextDocumentContentProvider(VIEW_SCHEME, this);
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.contents.get(uri.toString()) ?? "";
  }

  async show(name: string, markdown: string): Promise<void> {
    const uri = vscode.Uri.from({ scheme: VIEW_SCHEME, path: `/${name}.md` });
    this.contents.set(uri.toString(), markdown);
    this.emitter.fire(uri);
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.languages.setTextDocumentLanguage(doc, "markdown");
    await vscode.window.showTextDocument(doc, { preview: true, viewColumn: vscode.ViewColumn.Beside });
  }

  dispose(): void {
    this.emitter.dispose();
  }
}
