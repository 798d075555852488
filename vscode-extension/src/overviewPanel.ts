// "Attune: Show Workspace Overview": one webview panel (revealed if open) that draws
// the server's `attune/workspaceSummary` with the page script out/overview.js (built
// from src/overview/). It asks again, debounced, after a save in the folder and on
// the server's `attune/workspaceChanged` (a save, a strategy or calibration change),
// and opens a clicked tile's file, refusing paths outside the workspace folder.
import { randomBytes } from "node:crypto";
import * as path from "node:path";
import * as vscode from "vscode";
import { Commands, Notifications, Requests } from "./common/constants";
import type { AttuneServer } from "./common/server";
import type { ToExtension, ToPage } from "./overview/messages";

export const SUMMARY_REQUEST = Requests.workspaceSummary;
export const WORKSPACE_CHANGED = Notifications.workspaceChanged;
/** Saves and changes closer together than this make one request. */
export const REFRESH_DELAY_MS = 300;
const VIEW_TYPE = "attune.overview";

export interface SummaryParams {
  /** The workspace folder's URI. */
  folder: string;
  task?: string;
}

/** What the panel asks of the server; `onProgress` gets the server's "120/2,000 files". */
export type SummarySource = (
  params: SummaryParams,
  token: vscode.CancellationToken,
  onProgress: (message: string) => void,
) => Promise<unknown>;

const attr = (s: string) => s.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");

/** The webview's page: a nonce-only content security policy, no remote content, the page script. */
export function overviewHtml(o: { cspSource: string; nonce: string; scriptUri: string }): string {
  const csp = `default-src 'none'; style-src ${o.cspSource} 'nonce-${o.nonce}'; script-src 'nonce-${o.nonce}'; img-src ${o.cspSource}`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${attr(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>Workspace Overview</title>
</head>
<body>
<script nonce="${attr(o.nonce)}" src="${attr(o.scriptUri)}"></script>
</body>
</html>`;
}

export function newNonce(): string {
  return randomBytes(18).toString("base64");
}

/**
 * A tile's workspace-relative path as "/"-separated segments inside the folder, or
 * undefined for anything that would leave it (absolute, "..", a drive, a NUL).
 */
export function relativeInside(rel: unknown): string[] | undefined {
  if (typeof rel !== "string" || rel === "" || rel.includes("\0")) return undefined;
  const slashed = rel.replace(/\\/g, "/");
  if (slashed.startsWith("/") || /^[a-zA-Z]:/.test(slashed)) return undefined;
  const normal = path.posix.normalize(slashed);
  if (normal === "." || normal === ".." || normal.startsWith("../")) return undefined;
  return normal.split("/").filter((s) => s !== "" && s !== ".");
}

/** What the panel needs of the language client's owner. */
export type OverviewServer = Pick<AttuneServer, "client" | "health" | "onHealth" | "onNotification">;
export type OverviewLog = Pick<vscode.LogOutputChannel, "info" | "error" | "warn">;

export class OverviewPanel implements vscode.Disposable {
  static current: OverviewPanel | undefined;

  private summary: unknown;
  private task: string | undefined;
  private inFlight: vscode.CancellationTokenSource | undefined;
  private cancelledByUser = false;
  /** Asked again while a request ran: one more once it ends. */
  private again = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** Something changed while the panel was hidden: ask again when it shows. */
  private stale = false;
  private readonly subscriptions: vscode.Disposable[] = [];

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    readonly folder: vscode.Uri,
    private readonly source: SummarySource,
    private readonly output: OverviewLog,
    scriptUri: vscode.Uri,
  ) {
    const webview = panel.webview;
    webview.html = overviewHtml({ cspSource: webview.cspSource, nonce: newNonce(), scriptUri: webview.asWebviewUri(scriptUri).toString() });
    this.subscriptions.push(
      webview.onDidReceiveMessage((m: ToExtension) => this.onMessage(m)),
      panel.onDidChangeViewState(() => {
        if (panel.visible && this.stale) void this.refresh();
      }),
      panel.onDidDispose(() => this.dispose()),
    );
    void this.refresh();
  }

  /** Shows the panel: the open one, revealed, or a new one for the active file's folder. */
  static show(extensionUri: vscode.Uri, source: SummarySource, output: OverviewLog): void {
    if (OverviewPanel.current) {
      OverviewPanel.current.panel.reveal();
      return;
    }
    const active = vscode.window.activeTextEditor?.document.uri;
    const folder = (active && vscode.workspace.getWorkspaceFolder(active)) ?? vscode.workspace.workspaceFolders?.[0];
    if (!folder) {
      void vscode.window.showInformationMessage("Attune: open a folder to see its workspace overview.");
      return;
    }
    const out = vscode.Uri.joinPath(extensionUri, "out");
    const panel = vscode.window.createWebviewPanel(
      VIEW_TYPE,
      "Workspace Overview",
      { viewColumn: vscode.ViewColumn.Active, preserveFocus: false },
      { enableScripts: true, localResourceRoots: [out] },
    );
    OverviewPanel.current = new OverviewPanel(panel, folder.uri, source, output, vscode.Uri.joinPath(out, "overview.js"));
  }

  /** A save or a change the server reports: ask again once things settle. */
  scheduleRefresh(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.refresh();
    }, REFRESH_DELAY_MS);
  }

  onSaved(uri: vscode.Uri): void {
    if (vscode.workspace.getWorkspaceFolder(uri)?.uri.toString() === this.folder.toString()) this.scheduleRefresh();
  }

  private post(message: ToPage): void {
    void this.panel.webview.postMessage(message);
  }

  async refresh(): Promise<void> {
    if (!this.panel.visible) {
      this.stale = true;
      return;
    }
    this.stale = false;
    if (this.inFlight) {
      // The answer under way may predate the change: ask once more when it comes
      // (cancelling it instead would delay the picture by the whole count again).
      this.again = true;
      return;
    }
    const cts = new vscode.CancellationTokenSource();
    this.inFlight = cts;
    this.cancelledByUser = false;
    this.post({ type: "status", text: this.summary ? "Updating…" : "Counting the workspace’s files…", kind: "busy" });
    const started = Date.now();
    try {
      const summary = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Window, title: "Attune: workspace overview" },
        (progress) => this.source({ folder: this.folder.toString(), task: this.task }, cts.token, (message) => progress.report({ message })),
      );
      if (cts.token.isCancellationRequested) return;
      const count = (summary as { files?: unknown } | null)?.files;
      this.output.info(`Workspace overview: ${Array.isArray(count) ? count.length : "?"} files in ${Date.now() - started} ms`);
      this.summary = summary;
      this.post({ type: "summary", summary });
    } catch (err) {
      if (cts.token.isCancellationRequested) {
        if (this.cancelledByUser) this.post({ type: "status", text: "Cancelled. The overview updates at the next save.", kind: "info" });
        return;
      }
      const message = err instanceof Error ? err.message : String(err);
      this.output.error(`The workspace overview failed: ${message}`);
      this.post({ type: "status", text: `Attune could not summarise the workspace: ${message}`, kind: "error" });
    } finally {
      if (this.inFlight === cts) this.inFlight = undefined;
      cts.dispose();
    }
    if (this.again && !this.cancelledByUser) {
      this.again = false;
      void this.refresh();
    }
  }

  private onMessage(m: ToExtension): void {
    switch (m?.type) {
      case "ready": // a new page (first load, or shown again): it needs the picture
        if (this.summary !== undefined) this.post({ type: "summary", summary: this.summary });
        if (this.inFlight) this.post({ type: "status", text: "Updating…", kind: "busy" });
        else if (this.summary === undefined || this.stale) void this.refresh();
        break;
      case "open":
        void this.open(m.path);
        break;
      case "task":
        if (typeof m.task === "string" && m.task !== this.task) {
          this.task = m.task; // the lens text of the next answer prices this task
          this.scheduleRefresh();
        }
        break;
      case "cancel":
        this.cancelledByUser = true;
        this.again = false;
        this.inFlight?.cancel();
        break;
    }
  }

  private async open(rel: unknown): Promise<void> {
    const segments = relativeInside(rel);
    if (!segments) {
      this.output.warn(`The overview asked to open ${JSON.stringify(rel)}, which is outside ${this.folder.fsPath}; refused.`);
      void vscode.window.showWarningMessage(`Attune: ${String(rel)} is not inside the workspace folder.`);
      return;
    }
    const uri = vscode.Uri.joinPath(this.folder, ...segments);
    try {
      const doc = await vscode.workspace.openTextDocument(uri);
      // Beside the overview, so the picture stays in view while the file is edited.
      await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.Beside, preview: true });
    } catch (err) {
      void vscode.window.showErrorMessage(`Attune: could not open ${segments.join("/")}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  dispose(): void {
    if (OverviewPanel.current === this) OverviewPanel.current = undefined;
    if (this.timer) clearTimeout(this.timer);
    this.inFlight?.cancel();
    for (const d of this.subscriptions.splice(0)) d.dispose();
    this.panel.dispose();
  }
}

/** The command, the refresh triggers and the server's change notification. */
export function registerOverview(
  server: OverviewServer,
  source: SummarySource,
  extensionUri: vscode.Uri, output: OverviewLog): vscode.Disposable[] {
  server.onNotification(WORKSPACE_CHANGED, () => OverviewPanel.current?.scheduleRefresh());
  return [
    vscode.commands.registerCommand(Commands.showOverview, () => OverviewPanel.show(extensionUri, source, output)),
    vscode.workspace.onDidSaveTextDocument((doc) => OverviewPanel.current?.onSaved(doc.uri)),
    // A server that (re)starts after a failed request: ask again.
    server.onHealth((health) => {
      if (health === "running") OverviewPanel.current?.scheduleRefresh();
    }),
    { dispose: () => OverviewPanel.current?.dispose() },
  ];
}
