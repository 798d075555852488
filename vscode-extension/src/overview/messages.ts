// The messages between the overview webview's page (page.ts) and the extension
// (src/overviewPanel.ts).

export type ToExtension =
  | { type: "ready" }
  | { type: "open"; path: string }
  | { type: "task"; task: string }
  | { type: "cancel" };

export type ToPage =
  | { type: "summary"; summary: unknown }
  | { type: "status"; text: string; kind?: "busy" | "error" | "info" };
