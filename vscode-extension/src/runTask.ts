// "Attune: Run Task on This File…": a QuickPick of the tasks, each priced for the file
// by the server (previewTask), a modal preview of the one picked (cost per stage, the
// mode and why, what the module's tokens rest on), the run with a cancellable progress
// notification fed by the server's work-done progress, and the output in a new editor
// (with "Show Diff" against the file it is about). "Open in Claude Code" starts an
// interactive Claude Code in a terminal instead. Costs, modes and the run itself are
// the server's (and the core's); this file asks, shows and passes the answers on.
import { constants as fsConstants, promises as fs } from "node:fs";
import * as path from "node:path";
import * as vscode from "vscode";
import { Commands, ServerCommands, TASK_NAMES } from "./common/constants";
import { formatCount, formatMoney } from "./common/format";

type Dict = Record<string, unknown>;

/** A `$/progress` value (LSP's WorkDoneProgressBegin, Report or End). */
export interface ProgressValue {
  kind: "begin" | "report" | "end";
  title?: string;
  message?: string;
  percentage?: number;
}

export interface RequestOptions {
  /** Cancelling it sends `$/cancelRequest`; the request then rejects with a CancelledError. */
  cancel?: vscode.CancellationToken;
  /** Each `$/progress` value the server sends for this request. */
  onProgress?: (value: ProgressValue) => void;
}

/** The request was cancelled (LSP's RequestCancelled answer to `$/cancelRequest`). */
export class CancelledError extends Error {}

/** What the run flow needs of the language server. */
export interface RunServer {
  execute<T = unknown>(command: string, args?: Dict): Promise<T>;
  /** A command with its own progress token and a cancellation token (common/progressRequest.ts). */
  executeWithProgress<T = unknown>(command: string, args: Dict, options: RequestOptions): Promise<T>;
}

export interface RunTaskDeps {
  server: RunServer;
  output: Pick<vscode.LogOutputChannel, "info" | "warn" | "error" | "show">;
  /** The process environment (PATH, ATTUNE_CLAUDE_BIN) where `claude` is looked up. */
  env?: NodeJS.ProcessEnv;
}

// ---- the server's answers -------------------------------------------------------

export interface StageEstimate {
  stage: string;
  model: string;
  input_tokens: number;
  output_tokens: number;
  cost: number;
  api_cost: number;
}

export interface Preview {
  task: string;
  path: string;
  lines: number;
  mode: string;
  reason: string;
  output: string;
  description: string;
  offered_modes: string[];
  estimate: {
    total_cost: number;
    api_cost: number;
    quota_tokens: number;
    tokens: number;
    tokens_basis: string;
    calibrated_stages: string[];
    stages: StageEstimate[];
  };
}

export interface RunRecord {
  run_id: string | null;
  task: string;
  mode: string;
  status: string;
  error: string | null;
  cost: number;
  api_equivalent_cost: number;
  tokens: number;
  stages: Array<{ stage: string; status: string }>;
  output: string;
}

const num = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) ? v : 0);
const str = (v: unknown): string => (typeof v === "string" ? v : "");
const dict = (v: unknown): Dict => (v && typeof v === "object" ? (v as Dict) : {});
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** previewTask's answer (RunPlan.to_dict() + description, offered_modes), or undefined if it is not one. */
export function parsePreview(value: unknown): Preview | undefined {
  const v = dict(value);
  const e = dict(v.estimate);
  if (!str(v.task) || !str(v.mode) || !Array.isArray(e.stages)) return undefined;
  return {
    task: str(v.task),
    path: str(v.path),
    lines: num(v.lines),
    mode: str(v.mode),
    reason: str(v.reason),
    output: str(v.output),
    description: str(v.description),
    offered_modes: list(v.offered_modes).map(String),
    estimate: {
      total_cost: num(e.total_cost),
      api_cost: num(e.api_cost),
      quota_tokens: num(e.quota_tokens),
      tokens: num(e.tokens),
      tokens_basis: str(e.tokens_basis),
      calibrated_stages: list(e.calibrated_stages).map(String),
      stages: list(e.stages).map((raw) => {
        const s = dict(raw);
        return {
          stage: str(s.stage),
          model: str(s.model),
          input_tokens: num(s.input_tokens),
          output_tokens: num(s.output_tokens),
          cost: num(s.cost),
          api_cost: num(s.api_cost ?? s.cost),
        };
      }),
    },
  };
}

/** runTask's answer (RunResult.to_dict() + record), or undefined if it is not one. */
export function parseRunRecord(value: unknown): RunRecord | undefined {
  const v = dict(value);
  if (!str(v.status)) return undefined;
  return {
    run_id: typeof v.run_id === "string" ? v.run_id : null,
    task: str(v.task),
    mode: str(v.mode),
    status: str(v.status),
    error: typeof v.error === "string" ? v.error : null,
    cost: num(v.cost),
    api_equivalent_cost: num(v.api_equivalent_cost),
    tokens: num(v.tokens),
    stages: list(v.stages).map((raw) => ({ stage: str(dict(raw).stage), status: str(dict(raw).status) })),
    output: str(v.output),
  };
}

// ---- what the user sees (pure) ----------------------------------------------------

const MODE_NAMES: Record<string, string> = { api: "the API", subscription: "the subscription" };
export const modeName = (mode: string): string => MODE_NAMES[mode] ?? mode;

/** "≈$0.0191 on the API" or "$0 on your subscription (≈4,936 tokens of quota)". */
export function costText(p: Preview): string {
  if (p.mode === "subscription") return `$0 on your subscription (≈${formatCount(p.estimate.quota_tokens)} tokens of quota)`;
  return `≈${formatMoney(p.estimate.total_cost)} on the API`;
}

export interface TaskItem extends vscode.QuickPickItem {
  preview: Preview;
}

/** One item per task the server priced: the cost in the plan's mode, the task's description. */
export function taskItems(previews: Preview[]): TaskItem[] {
  return previews.map((p) => ({ label: p.task, description: costText(p), detail: p.description || p.output, preview: p }));
}

/** The other mode the plan offers, if any ("api" ↔ "subscription"). */
export function otherMode(p: Preview): string | undefined {
  const other = p.mode === "api" ? "subscription" : "api";
  return p.offered_modes.includes(other) ? other : undefined;
}

function stageLine(s: StageEstimate, index: number, subscription: boolean): string {
  const cost = subscription ? `$0 (API ≈${formatMoney(s.api_cost)})` : formatMoney(s.cost);
  return `${index + 1}. ${s.stage} · ${s.model} · ${formatCount(s.input_tokens)} in + ${formatCount(s.output_tokens)} out · ${cost}`;
}

/** What the module's tokens rest on, and which stages' outputs are calibrated. */
export function basisText(p: Preview): string {
  const e = p.estimate;
  const calibrated = e.calibrated_stages.length
    ? `output calibrated for ${e.calibrated_stages.join(", ")}`
    : "no stage's output calibrated yet (attune calibrate)";
  return `Module: ≈${formatCount(e.tokens)} tokens (${e.tokens_basis || "estimate"}); ${calibrated}`;
}

function totalText(p: Preview): string {
  const e = p.estimate;
  if (p.mode === "subscription") {
    return `Total: $0 on your subscription, ≈${formatCount(e.quota_tokens)} tokens of quota (API-equivalent ≈${formatMoney(e.api_cost)})`;
  }
  return `Total: ≈${formatMoney(e.total_cost)} charged to your API key (an estimate; the run records what it costs)`;
}

/** The modal preview: its message and its detail (plain text, one fact per line). */
export function previewText(p: Preview, fileName: string, other?: Preview): { message: string; detail: string } {
  const subscription = p.mode === "subscription";
  const lines = [
    `Mode: ${subscription ? "Subscription (Claude Code)" : "API"} — ${p.reason}`,
    basisText(p),
    "",
    ...p.estimate.stages.map((s, i) => stageLine(s, i, subscription)),
    totalText(p),
  ];
  if (other) lines.push(`On ${modeName(other.mode)} instead: ${costText(other)}`);
  lines.push("", `Output: ${p.output || "the task's result"}, in a new editor (nothing is written to your files).`);
  return { message: `Attune: run ${p.task} on ${fileName}?`, detail: lines.join("\n") };
}

export const RUN = "Run";
const STORE_API_KEY = "Store API Key";
export const OPEN_IN_CLAUDE_CODE = "Open in Claude Code";
export const runOnLabel = (mode: string): string => `Run on ${modeName(mode)}`;

/** Run; the other mode where the plan offers it; Claude Code where the plan has a subscription. */
export function previewButtons(p: Preview): string[] {
  const other = otherMode(p);
  const buttons = [RUN];
  if (other) buttons.push(runOnLabel(other));
  if (p.offered_modes.includes("subscription")) buttons.push(OPEN_IN_CLAUDE_CODE);
  return buttons;
}

/** The progress notification's text for a `$/progress` value ("[1/2] map · claude-haiku-4-5 · running · 0 tokens so far"). */
export function progressStep(value: ProgressValue, lastPercentage: number): { message?: string; increment: number; percentage: number } {
  const percentage = typeof value.percentage === "number" ? Math.max(lastPercentage, Math.min(100, value.percentage)) : lastPercentage;
  return { message: value.message, increment: percentage - lastPercentage, percentage };
}

/** The output editor's language: Markdown, or the target's language for `tests`. */
export function outputLanguage(task: string, targetLanguageId: string | undefined): string {
  return task === "tests" && targetLanguageId ? targetLanguageId : "markdown";
}

/** A reply that is one fenced code block (as `tests` asks for) without its fence; anything else as it is. */
export function unfence(text: string): string {
  const m = /^\s*(```|~~~)[^\n]*\n([\s\S]*?)\n?\1\s*$/.exec(text);
  return m && !m[2].includes(m[1]) ? m[2] + "\n" : text;
}

/** Where a module's tests conventionally live, nearest first (pytest's, Jest's, Go's, Rust's `tests/`). */
export function testFileCandidates(file: string, root: string | undefined): string[] {
  const dir = path.dirname(file);
  const ext = path.extname(file);
  const stem = path.basename(file, ext);
  const names =
    ext === ".py"
      ? [`test_${stem}.py`, `${stem}_test.py`]
      : ext === ".go"
        ? [`${stem}_test.go`]
        : [`${stem}.test${ext}`, `${stem}.spec${ext}`, `${stem}_test${ext}`];
  const folders = [dir, path.join(dir, "tests"), path.join(dir, "test"), path.join(dir, "__tests__")];
  if (root) folders.push(path.join(root, "tests"), path.join(root, "test"));
  const seen = new Set<string>();
  return folders.flatMap((f) => names.map((n) => path.join(f, n))).filter((p) => p !== file && !seen.has(p) && seen.add(p));
}

/** The existing documentation of a module, nearest first: `<stem>.md` beside it or in docs/. */
export function docFileCandidates(file: string, root: string | undefined): string[] {
  const stem = path.basename(file, path.extname(file));
  const candidates = [path.join(path.dirname(file), `${stem}.md`), path.join(path.dirname(file), "docs", `${stem}.md`)];
  if (root) candidates.push(path.join(root, "docs", `${stem}.md`));
  return [...new Set(candidates)];
}

/** The diff's title: what is on the left, what on the right. */
export function diffTitle(left: string, task: string, target: string): string {
  return `${path.basename(left)} ↔ Attune ${task} output for ${path.basename(target)}`;
}

/** One line about a finished run: stages, tokens, what it cost against the estimate. */
export function doneText(r: RunRecord, p: Preview, fileName: string): string {
  const cost =
    r.mode === "subscription"
      ? `$0 on your subscription (API-equivalent ${formatMoney(r.api_equivalent_cost)})`
      : `${formatMoney(r.cost)} on the API (estimated ≈${formatMoney(p.estimate.total_cost)})`;
  return `Attune: ${r.task} of ${fileName} done — ${r.stages.length} stage${r.stages.length === 1 ? "" : "s"}, ${formatCount(r.tokens)} tokens, ${cost}.`;
}

/** A failed or cancelled run, in one line (its finished stages are in the run record). */
export function notDoneText(r: RunRecord, fileName: string): string {
  const finished = r.stages.filter((s) => s.status === "ok").length;
  if (r.status === "cancelled") {
    return `Attune: ${r.task} of ${fileName} cancelled after ${finished} finished stage${finished === 1 ? "" : "s"}; they are kept in the run record.`;
  }
  return `Attune: ${r.task} of ${fileName} failed: ${r.error ?? "no reason given"} (${finished} stage${finished === 1 ? "" : "s"} finished).`;
}

/** A server error without the command id it starts with. */
export function errorText(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.replace(/^attune\.server\.\w+: /, "");
}

/** The prompt an interactive Claude Code starts with: which file, which task, what to produce. */
export function claudePrompt(task: string, relPath: string, description: string, output: string): string {
  const what = description ? ` ${description}` : "";
  const result = output ? ` The result: ${output}.` : "";
  return `Attune task "${task}" on ${relPath}:${what} Work from the file ${relPath}.${result}`;
}

export const CLAUDE_DOCS_URL = "https://docs.anthropic.com/en/docs/claude-code/setup";
export const CLAUDE_MISSING =
  "Attune: Claude Code (`claude`) is not on PATH: install it (`npm install -g @anthropic-ai/claude-code`, see the Claude Code docs, “Set up Claude Code”) and log in by running `claude`.";

/** The `claude` executable: ATTUNE_CLAUDE_BIN (as the server uses it), else the first on PATH. */
export async function findClaude(env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const isExecutable = async (file: string) => {
    try {
      const st = await fs.stat(file);
      if (!st.isFile()) return false;
      await fs.access(file, fsConstants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  const named = env.ATTUNE_CLAUDE_BIN;
  if (named) return (await isExecutable(named)) ? named : undefined;
  const exts = process.platform === "win32" ? (env.PATHEXT ?? ".EXE;.CMD;.BAT").split(";") : [""];
  for (const dir of (env.PATH ?? "").split(path.delimiter).filter(Boolean)) {
    for (const ext of exts) {
      const candidate = path.join(dir, `claude${ext}`);
      if (await isExecutable(candidate)) return candidate;
    }
  }
  return undefined;
}

async function firstExisting(files: string[]): Promise<string | undefined> {
  for (const f of files) {
    try {
      if ((await fs.stat(f)).isFile()) return f;
    } catch {
      /* not there */
    }
  }
  return undefined;
}

// ---- the flow ------------------------------------------------------------------------

/** The `uri` of a lens command's argument object ({uri}, as the "Run…" lens sends it). */
function uriArgument(args: unknown): string | undefined {
  const uri = dict(args).uri;
  return typeof uri === "string" ? uri : undefined;
}

export class TaskRunner {
  constructor(private readonly deps: RunTaskDeps) {}

  handlers(): Record<string, (...args: unknown[]) => unknown> {
    return {
      [Commands.runTask]: (args?: unknown) => this.runTask(args),
      [Commands.openInClaudeCode]: (args?: unknown) => this.openInClaudeCode(args),
    };
  }

  private showError(message: string, ...extra: string[]): void {
    this.deps.output.error(message);
    void vscode.window.showErrorMessage(message, ...extra, "Show Logs").then((pick) => {
      if (pick === "Show Logs") this.deps.output.show();
      else if (pick === STORE_API_KEY) void vscode.commands.executeCommand(Commands.storeApiKey);
    });
  }

  /** The file to run on: the lens's or the active editor's, saved (a run reads the saved file). */
  private async targetFile(args: unknown): Promise<vscode.Uri | undefined> {
    const given = uriArgument(args);
    const uri = given ? vscode.Uri.parse(given) : vscode.window.activeTextEditor?.document.uri;
    if (!uri) {
      void vscode.window.showInformationMessage("Attune: open a file to run a task on it.");
      return undefined;
    }
    if (uri.scheme !== "file") {
      void vscode.window.showInformationMessage("Attune: save this file first; a task runs on the saved file.");
      return undefined;
    }
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
    if (doc?.isDirty) {
      const pick = await vscode.window.showWarningMessage(
        `Attune: ${path.basename(uri.fsPath)} has unsaved changes; a task runs on the saved file.`,
        "Save and Continue",
      );
      if (pick !== "Save and Continue" || !(await doc.save())) return undefined;
    }
    return uri;
  }

  /** Every task priced for the file (concurrently); the ones the server could not price are logged. */
  private async previews(uri: vscode.Uri): Promise<Preview[]> {
    const answers = await Promise.allSettled(
      TASK_NAMES.map((task) => this.deps.server.execute(ServerCommands.previewTask, { uri: uri.toString(), task })),
    );
    const previews: Preview[] = [];
    let firstError: unknown;
    answers.forEach((a, i) => {
      const p = a.status === "fulfilled" ? parsePreview(a.value) : undefined;
      if (p) {
        previews.push(p);
        return;
      }
      const error: unknown = a.status === "rejected" ? a.reason : new Error("an answer of an unexpected shape");
      firstError ??= error;
      this.deps.output.warn(`previewTask ${TASK_NAMES[i]}: ${errorText(error)}`);
    });
    if (previews.length === 0) throw firstError instanceof Error ? firstError : new Error(String(firstError));
    return previews;
  }

  private async pickTask(uri: vscode.Uri, title: string): Promise<Preview | undefined> {
    let items: TaskItem[];
    try {
      items = taskItems(await this.previews(uri));
    } catch (err) {
      this.showError(`Attune: no task can run on ${path.basename(uri.fsPath)}: ${errorText(err)}`);
      return undefined;
    }
    const pick = await vscode.window.showQuickPick<TaskItem>(items, {
      title,
      placeHolder: `Which task? Each is priced for ${path.basename(uri.fsPath)}; nothing is sent until you confirm.`,
      matchOnDescription: true,
      matchOnDetail: true,
    });
    return pick?.preview;
  }

  /** The same task's preview in the plan's other mode (runTask without confirm sends nothing). */
  private async otherPreview(uri: vscode.Uri, p: Preview): Promise<Preview | undefined> {
    const mode = otherMode(p);
    if (!mode) return undefined;
    try {
      const answer = dict(await this.deps.server.execute(ServerCommands.runTask, { uri: uri.toString(), task: p.task, mode, confirm: false }));
      return parsePreview(answer.preview);
    } catch (err) {
      this.deps.output.warn(`No ${mode} preview of ${p.task}: ${errorText(err)}`);
      return undefined;
    }
  }

  async runTask(args?: unknown): Promise<void> {
    const uri = await this.targetFile(args);
    if (!uri) return;
    const fileName = path.basename(uri.fsPath);
    const preview = await this.pickTask(uri, `Attune: Run Task on ${fileName}`);
    if (!preview) return;
    const other = await this.otherPreview(uri, preview);
    const { message, detail } = previewText(preview, fileName, other);
    const pick = await vscode.window.showInformationMessage(message, { modal: true, detail }, ...previewButtons(preview));
    if (!pick) return;
    if (pick === OPEN_IN_CLAUDE_CODE) {
      await this.launchClaude(uri, preview);
      return;
    }
    const mode = pick === RUN ? preview.mode : (otherMode(preview) ?? preview.mode);
    await this.run(uri, preview, mode);
  }

  private async run(uri: vscode.Uri, preview: Preview, mode: string): Promise<void> {
    const fileName = path.basename(uri.fsPath);
    const { server, output } = this.deps;
    output.info(`Running ${preview.task} on ${uri.fsPath} (${mode})`);
    let answer: unknown;
    try {
      answer = await vscode.window.withProgress(
        {
          location: vscode.ProgressLocation.Notification,
          title: `Attune: ${preview.task} · ${fileName}`,
          cancellable: true,
        },
        async (progress, token) => {
          progress.report({ message: `starting on ${modeName(mode)}…` });
          let last = 0;
          return server.executeWithProgress(
            ServerCommands.runTask,
            { uri: uri.toString(), task: preview.task, mode, confirm: true },
            {
              cancel: token,
              onProgress: (value) => {
                if (value.kind === "end") return;
                const step = progressStep(value, last);
                last = step.percentage;
                if (value.message) output.info(`${preview.task}: ${value.message}`);
                progress.report({ message: step.message, increment: step.increment });
              },
            },
          );
        },
      );
    } catch (err) {
      if (err instanceof CancelledError) {
        const msg = `Attune: ${preview.task} of ${fileName} cancelled; the stages that finished are kept in the run record (attune runs).`;
        output.warn(msg);
        void vscode.window.showWarningMessage(msg, "Show Logs").then((p) => p && output.show());
        return;
      }
      const text = errorText(err);
      const keyMissing = /ANTHROPIC_API_KEY/.test(text);
      this.showError(`Attune: ${preview.task} of ${fileName} did not run: ${text}`, ...(keyMissing ? [STORE_API_KEY] : []));
      return;
    }
    const record = parseRunRecord(answer);
    if (!record) {
      this.showError(`Attune: ${preview.task} of ${fileName}: the server's answer has an unexpected shape.`);
      return;
    }
    if (record.status !== "ok") {
      const text = notDoneText(record, fileName);
      if (record.status === "cancelled") {
        output.warn(text);
        void vscode.window.showWarningMessage(text, "Show Logs").then((p) => p && output.show());
      } else this.showError(text);
      return;
    }
    output.info(`${preview.task} of ${uri.fsPath}: ${record.status}, ${record.tokens} tokens, $${record.cost} (run ${record.run_id ?? "not recorded"})`);
    await this.showOutput(uri, preview, record);
  }

  private async showOutput(uri: vscode.Uri, preview: Preview, record: RunRecord): Promise<void> {
    const fileName = path.basename(uri.fsPath);
    let targetLanguage: string | undefined;
    if (preview.task === "tests") {
      try {
        targetLanguage = (await vscode.workspace.openTextDocument(uri)).languageId;
      } catch {
        /* Markdown then */
      }
    }
    const language = outputLanguage(preview.task, targetLanguage);
    const content = language === "markdown" ? record.output : unfence(record.output);
    const doc = await vscode.workspace.openTextDocument({ content, language });
    await vscode.window.showTextDocument(doc, { preview: false });
    const against = await this.diffTarget(uri, preview.task);
    const pick = await vscode.window.showInformationMessage(doneText(record, preview, fileName), ...(against ? ["Show Diff"] : []));
    if (pick === "Show Diff" && against) {
      await vscode.commands.executeCommand("vscode.diff", vscode.Uri.file(against), doc.uri, diffTitle(against, preview.task, uri.fsPath));
    }
  }

  /** What the output is compared with: tests against the existing test file (none: no diff),
   * documentation against the module's existing doc, else the module itself. */
  private async diffTarget(uri: vscode.Uri, task: string): Promise<string | undefined> {
    const root = vscode.workspace.getWorkspaceFolder(uri)?.uri.fsPath;
    if (task === "tests") return firstExisting(testFileCandidates(uri.fsPath, root));
    if (task === "document") return (await firstExisting(docFileCandidates(uri.fsPath, root))) ?? uri.fsPath;
    return undefined;
  }

  /** `attune.openInClaudeCode` ([{uri, task?}] or the active file; no task: the task QuickPick). */
  async openInClaudeCode(args?: unknown): Promise<void> {
    const uri = await this.targetFile(args);
    if (!uri) return;
    const task = str(dict(args).task);
    let preview: Preview | undefined;
    if (task) {
      try {
        preview = parsePreview(await this.deps.server.execute(ServerCommands.previewTask, { uri: uri.toString(), task }));
      } catch (err) {
        this.deps.output.warn(`previewTask ${task}: ${errorText(err)}`);
      }
    } else {
      preview = await this.pickTask(uri, `Attune: Open in Claude Code · ${path.basename(uri.fsPath)}`);
      if (!preview) return;
    }
    await this.launchClaude(uri, preview ?? { task, description: "", output: "" });
  }

  /** An interactive `claude "<prompt>"` in a terminal, in the workspace folder: the prompt is
   * one argument of the process (shellArgs), never part of a shell command line. */
  private async launchClaude(uri: vscode.Uri, p: Pick<Preview, "task" | "description" | "output">): Promise<void> {
    const claude = await findClaude(this.deps.env ?? process.env);
    if (!claude) {
      this.deps.output.warn(CLAUDE_MISSING);
      const pick = await vscode.window.showWarningMessage(CLAUDE_MISSING, "Open the Claude Code Docs");
      if (pick) await vscode.env.openExternal(vscode.Uri.parse(CLAUDE_DOCS_URL));
      return;
    }
    const folder = vscode.workspace.getWorkspaceFolder(uri) ?? vscode.workspace.workspaceFolders?.[0];
    const cwd = folder?.uri.fsPath ?? path.dirname(uri.fsPath);
    const rel = path.relative(cwd, uri.fsPath) || path.basename(uri.fsPath);
    const prompt = claudePrompt(p.task, rel, p.description, p.output);
    this.deps.output.info(`Opening Claude Code in ${cwd}: ${claude} ${JSON.stringify(prompt)}`);
    const terminal = vscode.window.createTerminal({ name: `Claude Code · ${p.task} · ${path.basename(uri.fsPath)}`, shellPath: claude, shellArgs: [prompt], cwd });
    terminal.show();
  }
}

/** Registers attune.runTask and attune.openInClaudeCode; dispose the result to unregister them. */
export function registerRunTask(deps: RunTaskDeps): vscode.Disposable[] {
  return Object.entries(new TaskRunner(deps).handlers()).map(([id, handler]) => vscode.commands.registerCommand(id, handler));
}
