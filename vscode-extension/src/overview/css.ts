// The picture's stylesheet, injected by the page script (one file serves the webview
// and the self-contained HTML report). Theme variables first, plain colours after.
export const OVERVIEW_CSS = `
html, body { margin: 0; padding: 0; height: 100%; }
body {
  background: var(--vscode-editor-background, #ffffff);
  color: var(--vscode-foreground, #1f1f1f);
  font-family: var(--vscode-font-family, system-ui, -apple-system, "Segoe UI", sans-serif);
  font-size: var(--vscode-font-size, 13px);
}
.attune-overview { display: flex; flex-direction: column; height: 100vh; box-sizing: border-box; padding: 8px 12px; gap: 6px; }
.attune-overview h1 { font-size: 1.25em; font-weight: 600; margin: 0; }
.attune-overview h2 { font-size: 1em; font-weight: 600; margin: 0 0 2px; opacity: 0.8; }
.attune-overview .title-row { display: flex; align-items: baseline; gap: 12px; flex-wrap: wrap; }
.attune-overview .root { opacity: 0.7; font-family: var(--vscode-editor-font-family, monospace); overflow-wrap: anywhere; }
.attune-overview .task-filter { margin-left: auto; }
.attune-overview select {
  background: var(--vscode-dropdown-background, var(--vscode-editor-background, #ffffff));
  color: var(--vscode-dropdown-foreground, var(--vscode-foreground, #1f1f1f));
  border: 1px solid var(--vscode-dropdown-border, #8888);
  font: inherit; padding: 1px 4px;
}
.attune-overview .totals { display: flex; gap: 24px; flex-wrap: wrap; }
.attune-overview .totals ul { list-style: none; margin: 0; padding: 0; }
.attune-overview .totals li { white-space: nowrap; line-height: 1.5; }
.attune-overview .swatch { display: inline-block; width: 10px; height: 10px; margin-right: 6px; vertical-align: baseline; border: 1px solid #8886; }
.attune-overview .legend { opacity: 0.85; display: flex; align-items: center; gap: 6px; flex-wrap: wrap; }
.attune-overview .legend .swatch { margin-right: 0; }
.attune-overview .status { min-height: 1.4em; display: flex; gap: 8px; align-items: center; }
.attune-overview .status.error { color: var(--vscode-errorForeground, #c72e0f); }
.attune-overview button {
  background: var(--vscode-button-secondaryBackground, #e5e5e5);
  color: var(--vscode-button-secondaryForeground, inherit);
  border: none; padding: 2px 8px; font: inherit; cursor: pointer;
}
.attune-overview .treemap { position: relative; flex: 1 1 auto; min-height: 240px; overflow: hidden; }
.attune-overview .folder {
  position: absolute; box-sizing: border-box; pointer-events: none;
  border: 1px solid var(--vscode-panel-border, #8886);
}
.attune-overview .folder-name {
  display: block; height: 16px; line-height: 16px; padding: 0 4px; font-size: 11px;
  overflow: hidden; white-space: nowrap; text-overflow: ellipsis; opacity: 0.85;
}
.attune-overview .tile {
  position: absolute; box-sizing: border-box; overflow: hidden;
  border: 1px solid var(--vscode-editor-background, #ffffff);
  color: var(--vscode-editor-foreground, #1f1f1f);
  font-size: 11px; line-height: 14px; padding: 1px 3px; white-space: nowrap; text-overflow: ellipsis;
}
.attune-overview .tile.clickable { cursor: pointer; }
.attune-overview .tile:hover, .attune-overview .tile:focus-visible {
  outline: 2px solid var(--vscode-focusBorder, #0090f1); outline-offset: -2px; z-index: 1;
}
.attune-overview .tooltip {
  position: fixed; z-index: 10; max-width: min(560px, 90vw); padding: 4px 8px; white-space: pre-line; pointer-events: none;
  background: var(--vscode-editorHoverWidget-background, #f3f3f3);
  color: var(--vscode-editorHoverWidget-foreground, inherit);
  border: 1px solid var(--vscode-editorHoverWidget-border, #c8c8c8);
}
.attune-overview .empty { padding: 24px; opacity: 0.8; }
.attune-overview details { opacity: 0.85; }
`;
