// The page script (bundled as one IIFE: core/attune/cli/assets/overview.js and
// out/overview.js). On load it injects its stylesheet, reads the summary from
// <script type="application/json" id="attune-summary"> and draws it into the body.
// In a VS Code webview it also asks the extension to open a clicked file, tells it
// the task picked in the filter, and redraws on each {type: "summary"} message.
import { OVERVIEW_CSS } from "./css";
import type { ToExtension, ToPage } from "./messages";
import { OverviewView } from "./render";
import { parseSummary } from "./summary";

interface VsCodeApi {
  postMessage(message: ToExtension): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare const acquireVsCodeApi: (() => VsCodeApi) | undefined;

function main(): void {
  // The webview's policy allows styles carrying the page script's nonce.
  const nonce = (document.currentScript as HTMLScriptElement | null)?.nonce;
  const style = document.createElement("style");
  if (nonce) style.nonce = nonce;
  style.textContent = OVERVIEW_CSS;
  document.head.append(style);

  const vscode = typeof acquireVsCodeApi === "function" ? acquireVsCodeApi() : undefined;
  const saved = vscode?.getState() as { task?: unknown } | undefined;
  const view = new OverviewView(document.body, {
    task: typeof saved?.task === "string" ? saved.task : undefined,
    onOpen: vscode ? (path) => vscode.postMessage({ type: "open", path }) : undefined,
    onTaskChange: (task) => {
      vscode?.setState({ task });
      vscode?.postMessage({ type: "task", task });
    },
    onCancel: vscode ? () => vscode.postMessage({ type: "cancel" }) : undefined,
  });

  const show = (raw: unknown) => {
    try {
      view.show(parseSummary(raw));
    } catch (err) {
      view.setStatus(`Attune could not draw the overview: ${err instanceof Error ? err.message : String(err)}`, "error");
    }
  };
  const inline = document.getElementById("attune-summary")?.textContent?.trim();
  if (inline && inline !== "null") {
    try {
      show(JSON.parse(inline));
    } catch (err) {
      view.setStatus(`The embedded summary is not valid JSON: ${String(err)}`, "error");
    }
  }

  if (vscode) {
    window.addEventListener("message", (event: MessageEvent<ToPage>) => {
      const message = event.data;
      if (message?.type === "summary") {
        show(message.summary);
        view.setStatus("");
      } else if (message?.type === "status") {
        view.setStatus(message.text, message.kind);
      }
    });
    vscode.postMessage({ type: "ready" });
  }
}

main();
