// The overview panel: its page, the paths it agrees to open, and (against the vscode
// stand-in with a recording webview) when it asks the server and what it sends the page.
import assert from "node:assert/strict";
import { posix } from "node:path";
import { test } from "node:test";
import * as vscode from "vscode";
import { Commands } from "../src/common/constants";
import {
  newNonce,
  overviewHtml,
  OverviewPanel,
  registerOverview,
  relativeInside,
  WORKSPACE_CHANGED,
  type SummaryParams,
} from "../src/overviewPanel";
import { fake } from "./stubs/vscode";

test("the webview's page allows only its own nonce's script and styles and the webview's resources", () => {
  const nonce = newNonce();
  const html = overviewHtml({ cspSource: "https://webview.test", nonce, scriptUri: "https://webview.test/ext/out/overview.js" });
  const csp = /http-equiv="Content-Security-Policy" content="([^"]*)"/.exec(html)?.[1];
  assert.equal(
    csp,
    `default-src 'none'; style-src https://webview.test 'nonce-${nonce}'; script-src 'nonce-${nonce}'; img-src https://webview.test`,
  );
  const scripts = [...html.matchAll(/<script\b([^>]*)>/g)].map((m) => m[1]);
  assert.deepEqual(scripts, [` nonce="${nonce}" src="https://webview.test/ext/out/overview.js"`]);
  assert.doesNotMatch(html, /https?:\/\/(?!webview\.test)/, "no remote content");
  assert.doesNotMatch(html, /style="/, "no inline style attribute");
});

test("each page gets a fresh nonce", () => {
  const nonces = new Set(Array.from({ length: 20 }, newNonce));
  assert.equal(nonces.size, 20);
  for (const n of nonces) assert.match(n, /^[A-Za-z0-9+/]{24}$/);
});

test("a tile's path opens inside the workspace folder; paths that escape it are refused", () => {
  assert.deepEqual(relativeInside("src/a.py"), ["src", "a.py"]);
  assert.deepEqual(relativeInside("a.py"), ["a.py"]);
  assert.deepEqual(relativeInside("src/./lib/../a.py"), ["src", "a.py"]);
  for (const bad of ["../outside.py", "src/../../x.py", "/etc/passwd", "C:/Windows/win.ini", "..\\x.py", "..", ".", "", "a\0b", 42, undefined]) {
    assert.equal(relativeInside(bad), undefined, `${JSON.stringify(bad)} was accepted`);
  }
});

// ---- the panel against the vscode stand-in, with a webview that records what it is sent ----

interface FakeWebview {
  html: string;
  cspSource: string;
  posted: unknown[];
  receive?: (m: unknown) => void;
}

const ui = vscode.window as unknown as Record<string, unknown>;
const uris = vscode.Uri as unknown as Record<string, unknown>;
uris.joinPath ??= (base: vscode.Uri, ...segments: string[]) => vscode.Uri.file(posix.join(base.path, ...segments));
const tokens = vscode.CancellationTokenSource.prototype as unknown as Record<string, unknown>;
tokens.dispose ??= () => undefined;

/** Opens the overview on /w; returns its webview, the requests asked and the change notification's handler. */
function openOverview(answer: (params: SummaryParams) => unknown = () => ({ files: [] })) {
  fake.reset();
  fake.workspaceFolder = "/w";
  const webviews: FakeWebview[] = [];
  let revealed = 0;
  ui.createWebviewPanel = (_type: string, _title: string, _column: unknown, options: unknown) => {
    fake.calls.push({ api: "createWebviewPanel", args: [options] });
    const webview: FakeWebview = { html: "", cspSource: "https://webview.test", posted: [] };
    webviews.push(webview);
    return {
      visible: true,
      webview: Object.assign(webview, {
        asWebviewUri: (u: vscode.Uri) => u,
        postMessage: (m: unknown) => Promise.resolve(void webview.posted.push(m)),
        onDidReceiveMessage: (fn: (m: unknown) => void) => ((webview.receive = fn), new vscode.Disposable(() => undefined)),
      }),
      reveal: () => void revealed++,
      onDidChangeViewState: () => new vscode.Disposable(() => undefined),
      onDidDispose: () => new vscode.Disposable(() => undefined),
      dispose: () => undefined,
    };
  };
  const requests: SummaryParams[] = [];
  let changed: ((params: unknown) => void) | undefined;
  const server = {
    client: undefined,
    health: "running" as const,
    onHealth: () => new vscode.Disposable(() => undefined),
    onNotification: (method: string, handler: (params: unknown) => void) => void (method === WORKSPACE_CHANGED && (changed = handler)),
  };
  const source = (params: SummaryParams) => {
    requests.push(params);
    try {
      return Promise.resolve(answer(params));
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  };
  const log = { info: () => undefined, warn: () => undefined, error: () => undefined };
  const disposables = registerOverview(server, source, vscode.Uri.file("/ext"), log);
  const run = () => (fake.commands.get(Commands.showOverview) as () => void)();
  run();
  const dispose = () => {
    for (const d of disposables) d.dispose();
  };
  return { webviews, requests, run, revealed: () => revealed, changed: () => changed?.({ reasons: ["save"] }), dispose };
}

async function until<T>(what: string, fn: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test("the command opens one panel that asks the server for the folder's summary and sends it to the page", async () => {
  const o = openOverview(() => ({ files: [{ path: "a.py" }] }));
  try {
    assert.equal(fake.callsOf("createWebviewPanel").length, 1);
    const [options] = fake.callsOf("createWebviewPanel")[0] as [{ enableScripts: boolean; localResourceRoots: vscode.Uri[] }];
    assert.equal(options.enableScripts, true);
    assert.deepEqual(options.localResourceRoots.map((u) => u.path), ["/ext/out"]);
    assert.match(o.webviews[0].html, /src="file:\/\/\/ext\/out\/overview\.js"/);
    await until("the summary posted", () => o.webviews[0].posted.find((m) => (m as { type: string }).type === "summary"));
    assert.deepEqual(o.requests, [{ folder: "file:///w", task: undefined }]);

    o.run(); // again: the same panel, revealed
    assert.equal(fake.callsOf("createWebviewPanel").length, 1);
    assert.equal(o.revealed(), 1);
  } finally {
    o.dispose();
  }
});

test("a save in the folder and the server's attune/workspaceChanged each make the panel ask again", async () => {
  let n = 0;
  const o = openOverview(() => ({ files: [{ path: "a.py", lines: ++n }] }));
  try {
    await until("the first answer", () => o.requests.length === 1 && o.webviews[0].posted.length >= 2);
    OverviewPanel.current?.onSaved(vscode.Uri.file("/w/a.py"));
    await until("a request after the save", () => o.requests.length === 2);
    OverviewPanel.current?.onSaved(vscode.Uri.file("/elsewhere/b.py")); // outside the folder: nothing
    o.changed();
    await until("a request after the notification", () => o.requests.length === 3);
    await until("the third answer posted", () =>
      o.webviews[0].posted.some((m) => JSON.stringify(m).includes('"lines":3')),
    );
    assert.equal(o.requests.length, 3);
  } finally {
    o.dispose();
  }
});

test("the page's task filter is the task of the next request", async () => {
  const o = openOverview();
  try {
    await until("the first request", () => o.requests.length === 1);
    o.webviews[0].receive?.({ type: "task", task: "review" });
    await until("a request for review", () => o.requests.find((r) => r.task === "review"));
  } finally {
    o.dispose();
  }
});

test("a failed request is shown in the page, not thrown", async () => {
  const o = openOverview(() => {
    throw new Error("strategy file invalid");
  });
  try {
    const status = await until("an error status", () =>
      o.webviews[0].posted.find((m) => (m as { kind?: string }).kind === "error"),
    );
    assert.match(JSON.stringify(status), /could not summarise the workspace: strategy file invalid/);
  } finally {
    o.dispose();
  }
});

test("a tile's file opens from inside the folder; a path that leaves it is refused", async () => {
  const o = openOverview();
  try {
    o.webviews[0].receive?.({ type: "open", path: "src/a.py" });
    await until("the file opened", () => fake.callsOf("showTextDocument").length === 1);
    assert.deepEqual((fake.callsOf("openTextDocument")[0][0] as vscode.Uri).path, "/w/src/a.py");

    o.webviews[0].receive?.({ type: "open", path: "../../etc/passwd" });
    await until("a warning", () => fake.callsOf("showWarningMessage").length === 1);
    assert.equal(fake.callsOf("openTextDocument").length, 1);
  } finally {
    o.dispose();
  }
});
