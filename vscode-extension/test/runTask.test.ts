// "Attune: Run Task on This File…" and "Open in Claude Code" against a fake server and
// the vscode stand-in: what is asked of the server, what the user is shown and can pick.
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, test } from "node:test";
import { Commands, ServerCommands, TASK_NAMES } from "../src/common/constants";
import {
  CancelledError,
  CLAUDE_MISSING,
  claudePrompt,
  costText,
  parsePreview,
  progressStep,
  registerRunTask,
  TaskRunner,
  testFileCandidates,
  unfence,
  type Preview,
  type ProgressValue,
  type RequestOptions,
} from "../src/runTask";
import { fake } from "./stubs/vscode";

type Dict = Record<string, unknown>;

const DESCRIPTIONS: Record<string, string> = {
  document: "Write the module's documentation.",
  review: "Review the module: bugs, risks and maintainability problems.",
  explain: "Explain what the module does and how it works, for a developer new to it.",
  tests: "Write unit tests for the module.",
};

/** previewTask's answer for a task, in the shape the server sends (RunPlan.to_dict() + extras). */
function preview(task: string, mode: "api" | "subscription", offered: string[] = [mode]): Dict {
  const subscription = mode === "subscription";
  return {
    task,
    path: "/w/pkg/config_parser.py",
    language: "Python",
    lines: 120,
    mode,
    reason: subscription ? "Medium module: runs on your subscription." : "Small module (120 lines): cheap on the API (≈$0.0191).",
    output: task === "tests" ? "a test module (pytest for Python)" : "a Markdown explanation of the module",
    description: DESCRIPTIONS[task],
    offered_modes: offered,
    sends_nothing: true,
    estimate: {
      task,
      mode,
      tokens: 1848,
      tokens_basis: task === "explain" ? "calibrated: Python, 40 files" : "default 4 tokens/line",
      calibrated_stages: task === "explain" ? ["map"] : [],
      total_cost: subscription ? 0 : 0.019141,
      api_cost: 0.019141,
      quota_tokens: subscription ? 4936 : 0,
      stages: [
        { stage: "map", tier: "cheap", model: "claude-haiku-4-5", input_tokens: 1929, output_tokens: 185, cost: subscription ? 0 : 0.002854, api_cost: 0.002854 },
        { stage: "explain", tier: "capable", model: "claude-sonnet-4-6", input_tokens: 2194, output_tokens: 647, cost: subscription ? 0 : 0.016287, api_cost: 0.016287 },
      ],
    },
  };
}

function record(task: string, over: Dict = {}): Dict {
  return {
    run_id: "c6ca9061",
    task,
    mode: "api",
    status: "ok",
    error: null,
    cost: 0.0409,
    api_equivalent_cost: 0.0409,
    tokens: 14506,
    stages: [
      { stage: "map", status: "ok" },
      { stage: "explain", status: "ok" },
    ],
    output: "# config_parser.py\n\nIt parses configs.\n",
    ...over,
  };
}

/** A fake server: previews per task (in `mode`), runTask through executeWithProgress. */
function harness(opts: { mode?: "api" | "subscription"; offered?: string[]; previewError?: string; previewFails?: string[]; run?: (args: Dict, o: RequestOptions) => Promise<unknown>; env?: NodeJS.ProcessEnv } = {}) {
  const mode = opts.mode ?? "api";
  const executed: Array<[string, Dict | undefined]> = [];
  const withProgress: Array<[string, Dict]> = [];
  const logged: string[] = [];
  const runner = new TaskRunner({
    server: {
      execute<T>(command: string, args?: Dict): Promise<T> {
        executed.push([command, args]);
        if (command === ServerCommands.previewTask && opts.previewError) return Promise.reject(new Error(opts.previewError));
        if (command === ServerCommands.previewTask && opts.previewFails?.includes(String(args?.task))) {
          return Promise.reject(new Error(`attune.server.previewTask: ${String(args?.task)}: the file does not fit the context window`));
        }
        if (command === ServerCommands.previewTask) return Promise.resolve(preview(String(args?.task), mode, opts.offered) as T);
        if (command === ServerCommands.runTask && args?.confirm === false) {
          return Promise.resolve({ confirmed: false, preview: preview(String(args.task), args.mode as "api", opts.offered) } as T);
        }
        return Promise.reject(new Error(`unexpected ${command}`));
      },
      executeWithProgress<T>(command: string, args: Dict, o: RequestOptions): Promise<T> {
        withProgress.push([command, args]);
        const run = opts.run ?? (() => Promise.resolve(record(String(args.task), { mode: args.mode })));
        return run(args, o) as Promise<T>;
      },
    },
    output: {
      info: (m: string) => void logged.push(`info: ${m}`),
      warn: (m: string) => void logged.push(`warn: ${m}`),
      error: (m: string) => void logged.push(`error: ${m}`),
      show: () => void logged.push("show"),
    },
    env: opts.env ?? { PATH: "" },
  });
  return { runner, executed, withProgress, logged };
}

const pick = (label: string) => (items: Array<{ label: string }>) => items.find((i) => i.label === label);
const settle = () => new Promise((r) => setImmediate(r));
const URI = "file:///w/pkg/config_parser.py";

let dirs: string[] = [];
beforeEach(() => fake.reset());
afterEach(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "attune-run-test-"));
  dirs.push(d);
  return d;
}

test("both commands are registered; the palette's title is in package.json", () => {
  const h = harness();
  const disposables = registerRunTask({
    server: { execute: <T>() => Promise.resolve(undefined as T), executeWithProgress: <T>() => Promise.resolve(undefined as T) },
    output: { info() {}, warn() {}, error() {}, show() {} },
  });
  assert.deepEqual([...fake.commands.keys()].sort(), [Commands.openInClaudeCode, Commands.runTask]);
  for (const d of disposables) d.dispose();
  assert.ok(h.runner.handlers()[Commands.runTask]);
});

test("the Run… lens's file: each task priced by previewTask, the QuickPick shows cost on the API and the description", async () => {
  const h = harness();
  await h.runner.runTask({ uri: URI });
  assert.deepEqual(
    h.executed.map(([c, a]) => [c, a]),
    TASK_NAMES.map((task) => [ServerCommands.previewTask, { uri: URI, task }]),
  );
  const [[items, options]] = fake.callsOf("showQuickPick") as Array<[Array<{ label: string; description: string; detail: string }>, { title: string }]>;
  assert.deepEqual(items.map((i) => i.label), ["document", "review", "explain", "tests"]);
  const explain = items[2];
  assert.equal(explain.description, "≈$0.0191 on the API");
  assert.equal(explain.detail, DESCRIPTIONS.explain);
  assert.equal(options.title, "Attune: Run Task on config_parser.py");
  assert.equal(h.withProgress.length, 0); // nothing picked: nothing run
});

test("on a subscription the QuickPick says $0 and the tokens of quota", () => {
  assert.equal(costText(parsePreview(preview("review", "subscription"))!), "$0 on your subscription (≈4,936 tokens of quota)");
});

test("pick explain, confirm Run: the modal shows stages, mode, reason and the module's basis; the run's progress and output follow", async () => {
  const reports: ProgressValue[] = [
    { kind: "begin", title: "Attune: explain", message: "config_parser.py on the API", percentage: 0 },
    { kind: "report", message: "[1/2] map · claude-haiku-4-5 · running · 0 tokens so far", percentage: 0 },
    { kind: "report", message: "[1/2] map · claude-haiku-4-5 · ok · 6,859 tokens so far", percentage: 50 },
    { kind: "report", message: "[2/2] explain · claude-sonnet-4-6 · ok · 14,506 tokens so far", percentage: 100 },
    { kind: "end", message: "ok" },
  ];
  const h = harness({
    run: (args, o) => {
      for (const r of reports) o.onProgress?.(r);
      return Promise.resolve(record(String(args.task)));
    },
  });
  fake.answer("showQuickPick", pick("explain"));
  fake.answer("showInformationMessage", "Run");
  await h.runner.runTask({ uri: URI });

  const [modal] = fake.callsOf("showInformationMessage") as Array<[string, { modal: boolean; detail: string }, ...string[]]>;
  assert.equal(modal[0], "Attune: run explain on config_parser.py?");
  assert.equal(modal[1].modal, true);
  const detail = modal[1].detail;
  assert.match(detail, /^Mode: API — Small module \(120 lines\): cheap on the API/);
  assert.match(detail, /Module: ≈1,848 tokens \(calibrated: Python, 40 files\); output calibrated for map/);
  assert.match(detail, /1\. map · claude-haiku-4-5 · 1,929 in \+ 185 out · \$0\.0029/);
  assert.match(detail, /2\. explain · claude-sonnet-4-6 · 2,194 in \+ 647 out · \$0\.0163/);
  assert.match(detail, /Total: ≈\$0\.0191 charged to your API key/);
  assert.deepEqual(modal.slice(2), ["Run"]); // an API-only plan: no other mode, no Claude Code

  assert.deepEqual(h.withProgress, [[ServerCommands.runTask, { uri: URI, task: "explain", mode: "api", confirm: true }]]);
  const [[progressOptions]] = fake.callsOf("withProgress") as Array<[{ title: string; cancellable: boolean }]>;
  assert.equal(progressOptions.cancellable, true);
  assert.equal(progressOptions.title, "Attune: explain · config_parser.py");
  const shown = (fake.callsOf("progress.report") as Array<[{ message?: string; increment?: number }]>).map(([v]) => v);
  assert.deepEqual(shown.slice(1).map((v) => v.message), reports.slice(0, 4).map((r) => r.message));
  assert.equal(shown.reduce((sum, v) => sum + (v.increment ?? 0), 0), 100);

  const opened = fake.callsOf("openTextDocument") as Array<[{ content: string; language: string }]>;
  assert.deepEqual(opened.at(-1)?.[0], { content: "# config_parser.py\n\nIt parses configs.\n", language: "markdown" });
  assert.equal(fake.callsOf("showTextDocument").length, 1);
  const done = fake.callsOf("showInformationMessage")[1];
  assert.deepEqual(done, ["Attune: explain of config_parser.py done — 2 stages, 14,506 tokens, $0.0409 on the API (estimated ≈$0.0191)."]);
});

test("a plan with both modes: the preview offers the other mode (priced) and Claude Code; 'Run on the API' runs on the API", async () => {
  const h = harness({ mode: "subscription", offered: ["subscription", "api"] });
  fake.answer("showQuickPick", pick("review"));
  fake.answer("showInformationMessage", "Run on the API");
  await h.runner.runTask({ uri: URI });
  assert.deepEqual(h.executed.at(-1), [ServerCommands.runTask, { uri: URI, task: "review", mode: "api", confirm: false }]);
  const [modal] = fake.callsOf("showInformationMessage") as Array<[string, { detail: string }, ...string[]]>;
  assert.deepEqual(modal.slice(2), ["Run", "Run on the API", "Open in Claude Code"]);
  assert.match(modal[1].detail, /^Mode: Subscription \(Claude Code\) — Medium module/);
  assert.match(modal[1].detail, /1\. map · claude-haiku-4-5 · 1,929 in \+ 185 out · \$0 \(API ≈\$0\.0029\)/);
  assert.match(modal[1].detail, /Total: \$0 on your subscription, ≈4,936 tokens of quota \(API-equivalent ≈\$0\.0191\)/);
  assert.match(modal[1].detail, /On the API instead: ≈\$0\.0191 on the API/);
  assert.deepEqual(h.withProgress, [[ServerCommands.runTask, { uri: URI, task: "review", mode: "api", confirm: true }]]);
});

test("Cancel in the progress notification cancels the request: a warning with Show Logs, no output editor", async () => {
  const h = harness({
    run: (_args, o) =>
      new Promise((_resolve, reject) => {
        o.onProgress?.({ kind: "report", message: "[1/2] map · claude-haiku-4-5 · running · 0 tokens so far", percentage: 0 });
        o.cancel?.onCancellationRequested(() => reject(new CancelledError("cancelled")));
      }),
  });
  fake.answer("showQuickPick", pick("explain"));
  fake.answer("showInformationMessage", "Run");
  fake.answer("showWarningMessage", "Show Logs");
  const running = h.runner.runTask({ uri: URI });
  while (!fake.progressToken) await settle();
  fake.progressToken.cancel();
  await running;
  await settle();
  assert.deepEqual(fake.callsOf("showWarningMessage"), [
    ["Attune: explain of config_parser.py cancelled; the stages that finished are kept in the run record (attune runs).", "Show Logs"],
  ]);
  assert.ok(h.logged.includes("show"));
  assert.equal(fake.callsOf("showTextDocument").length, 0);
});

test("a failed run says why, with Show Logs; a run refused for want of a key offers to store one", async () => {
  const failed = harness({ run: () => Promise.resolve(record("explain", { status: "failed", error: "stage explain: 529 overloaded", stages: [{ stage: "map", status: "ok" }, { stage: "explain", status: "failed" }], output: "" })) });
  fake.answer("showQuickPick", pick("explain"));
  fake.answer("showInformationMessage", "Run");
  await failed.runner.runTask({ uri: URI });
  assert.deepEqual(fake.callsOf("showErrorMessage"), [["Attune: explain of config_parser.py failed: stage explain: 529 overloaded (1 stage finished).", "Show Logs"]]);
  assert.equal(fake.callsOf("showTextDocument").length, 0);

  fake.reset();
  const noKey = harness({ run: () => Promise.reject(new Error("attune.server.runTask: no API key: set ANTHROPIC_API_KEY")) });
  fake.answer("showQuickPick", pick("explain"));
  fake.answer("showInformationMessage", "Run");
  fake.answer("showErrorMessage", "Store API Key");
  await noKey.runner.runTask({ uri: URI });
  await settle();
  assert.deepEqual(fake.callsOf("showErrorMessage"), [["Attune: explain of config_parser.py did not run: no API key: set ANTHROPIC_API_KEY", "Store API Key", "Show Logs"]]);
  assert.deepEqual(fake.callsOf("executeCommand"), [[Commands.storeApiKey]]);
});

test("tests: the output in the file's language without its code fence, and Show Diff against the existing test file", async () => {
  const root = tempDir();
  mkdirSync(join(root, "pkg", "tests"), { recursive: true });
  writeFileSync(join(root, "pkg", "config_parser.py"), "x = 1\n");
  writeFileSync(join(root, "pkg", "tests", "test_config_parser.py"), "def test_old(): pass\n");
  fake.workspaceFolder = root;
  const uri = `file://${join(root, "pkg", "config_parser.py")}`;
  fake.documents.set(uri, { languageId: "python", isDirty: false });
  const h = harness({ run: () => Promise.resolve(record("tests", { output: "```python\ndef test_parse():\n    assert True\n```\n" })) });
  fake.answer("showQuickPick", pick("tests"));
  fake.answer("showInformationMessage", "Run", "Show Diff");
  await h.runner.runTask({ uri });
  const opened = (fake.callsOf("openTextDocument") as Array<[unknown]>).map(([t]) => t).filter((t) => !(t && typeof t === "object" && "scheme" in t));
  assert.deepEqual(opened, [{ content: "def test_parse():\n    assert True\n", language: "python" }]);
  const [done] = fake.callsOf("showInformationMessage").slice(1);
  assert.equal(done.at(-1), "Show Diff");
  const [diff] = fake.callsOf("executeCommand") as Array<[string, { fsPath: string }, { scheme: string }, string]>;
  assert.equal(diff[0], "vscode.diff");
  assert.equal(diff[1].fsPath, join(root, "pkg", "tests", "test_config_parser.py"));
  assert.equal(diff[2].scheme, "untitled");
  assert.equal(diff[3], "test_config_parser.py ↔ Attune tests output for config_parser.py");
});

test("tests without an existing test file: no Show Diff; document: Show Diff against the module itself", async () => {
  const root = tempDir();
  writeFileSync(join(root, "mod.py"), "x = 1\n");
  fake.workspaceFolder = root;
  const uri = `file://${join(root, "mod.py")}`;
  const h = harness();
  fake.answer("showQuickPick", pick("tests"), pick("document"));
  fake.answer("showInformationMessage", "Run", undefined, "Run", "Show Diff");
  await h.runner.runTask({ uri });
  await h.runner.runTask({ uri });
  const messages = fake.callsOf("showInformationMessage");
  assert.equal(messages[1].length, 1); // tests: no button
  assert.equal(messages[3].at(-1), "Show Diff");
  const [diff] = fake.callsOf("executeCommand") as Array<[string, { fsPath: string }, unknown, string]>;
  assert.equal(diff[1].fsPath, join(root, "mod.py"));
  assert.equal(diff[3], "mod.py ↔ Attune document output for mod.py");
});

test("no file, an untitled buffer, or unsaved changes declined: nothing is sent; Save and Continue saves first", async () => {
  const h = harness();
  await h.runner.runTask();
  await h.runner.runTask({ uri: "untitled:///Untitled-1" });
  fake.documents.set(URI, { languageId: "python", isDirty: true });
  await h.runner.runTask({ uri: URI });
  assert.equal(h.executed.length, 0);
  assert.deepEqual(fake.callsOf("showInformationMessage"), [
    ["Attune: open a file to run a task on it."],
    ["Attune: save this file first; a task runs on the saved file."],
  ]);
  fake.answer("showWarningMessage", "Save and Continue");
  await h.runner.runTask({ uri: URI });
  assert.deepEqual(fake.callsOf("save"), [[URI]]);
  assert.equal(h.executed.length, TASK_NAMES.length);
});

test("a file no task can be priced for: one error naming the server's reason", async () => {
  const h = harness({ previewError: "attune.server.previewTask: strategy file invalid — bad JSON; run `attune auth reset` or fix the file" });
  await h.runner.runTask({ uri: URI });
  assert.deepEqual(fake.callsOf("showErrorMessage"), [
    ["Attune: no task can run on config_parser.py: strategy file invalid — bad JSON; run `attune auth reset` or fix the file", "Show Logs"],
  ]);
  assert.equal(fake.callsOf("showQuickPick").length, 0);
});

test("a task the server cannot price is left out of the QuickPick and logged; the others are offered", async () => {
  const h = harness({ previewFails: ["tests"] });
  await h.runner.runTask({ uri: URI });
  const [[items]] = fake.callsOf("showQuickPick") as Array<[Array<{ label: string }>]>;
  assert.deepEqual(items.map((i) => i.label), ["document", "review", "explain"]);
  assert.deepEqual(h.logged, ["warn: previewTask tests: tests: the file does not fit the context window"]);
  assert.equal(fake.callsOf("showErrorMessage").length, 0);
});

test("Open in Claude Code: claude not on PATH is one line with the docs", async () => {
  const h = harness({ env: { PATH: tempDir() } });
  fake.answer("showWarningMessage", "Open the Claude Code Docs");
  await h.runner.openInClaudeCode({ uri: URI, task: "review" });
  assert.deepEqual(fake.callsOf("showWarningMessage"), [[CLAUDE_MISSING, "Open the Claude Code Docs"]]);
  assert.equal(fake.callsOf("createTerminal").length, 0);
  const [[url]] = fake.callsOf("openExternal") as Array<[{ path: string }]>;
  assert.match(url.path, /claude-code/);
});

test("Open in Claude Code from the preview: claude in a terminal, the prompt one argument (no shell), cwd the workspace folder", async () => {
  const root = tempDir();
  const bin = join(root, "bin");
  mkdirSync(bin);
  writeFileSync(join(bin, "claude"), "#!/bin/sh\n");
  chmodSync(join(bin, "claude"), 0o755);
  mkdirSync(join(root, "src"));
  const file = join(root, "src", `it's "quoted" $(x).py`);
  writeFileSync(file, "x = 1\n");
  fake.workspaceFolder = root;
  const h = harness({ mode: "subscription", offered: ["subscription", "api"], env: { PATH: bin } });
  fake.answer("showQuickPick", pick("explain"));
  fake.answer("showInformationMessage", "Open in Claude Code");
  await h.runner.runTask({ uri: `file://${file}` });
  assert.equal(h.withProgress.length, 0);
  const [[terminal]] = fake.callsOf("createTerminal") as Array<[{ shellPath: string; shellArgs: string[]; cwd: string; name: string }]>;
  assert.equal(terminal.shellPath, join(bin, "claude"));
  assert.equal(terminal.cwd, root);
  const rel = `src/it's "quoted" $(x).py`;
  assert.deepEqual(terminal.shellArgs, [claudePrompt("explain", rel, DESCRIPTIONS.explain, "a Markdown explanation of the module")]);
  assert.ok(terminal.shellArgs[0].includes(rel) && terminal.shellArgs[0].includes('"explain"'));
  assert.equal(fake.callsOf("terminal.show").length, 1);
});

test("unfence strips only a reply that is one fenced block", () => {
  assert.equal(unfence("```python\nx = 1\n```"), "x = 1\n");
  assert.equal(unfence("\n```\nx = 1\n```\n\n"), "x = 1\n");
  assert.equal(unfence("Here:\n```python\nx = 1\n```"), "Here:\n```python\nx = 1\n```");
  assert.equal(unfence("```a\n1\n```\ntext\n```b\n2\n```"), "```a\n1\n```\ntext\n```b\n2\n```");
});

test("conventional test paths: beside the module, in tests/ folders, at the workspace root", () => {
  assert.deepEqual(testFileCandidates("/w/pkg/mod.py", "/w").slice(0, 4), ["/w/pkg/test_mod.py", "/w/pkg/mod_test.py", "/w/pkg/tests/test_mod.py", "/w/pkg/tests/mod_test.py"]);
  assert.ok(testFileCandidates("/w/pkg/mod.py", "/w").includes("/w/tests/test_mod.py"));
  assert.equal(testFileCandidates("/w/src/app.ts", "/w")[0], "/w/src/app.test.ts");
  assert.equal(testFileCandidates("/w/x/server.go", undefined)[0], "/w/x/server_test.go");
});

test("progress: increments add up to the server's percentage, never backwards", () => {
  let last = 0;
  const steps = [0, 25, 25, 10, 100, undefined].map((percentage) => {
    const s = progressStep({ kind: "report", message: "m", percentage }, last);
    last = s.percentage;
    return s.increment;
  });
  assert.deepEqual(steps, [0, 25, 0, 0, 75, 0]);
});

test("a preview of an unexpected shape is refused, not shown half-empty", () => {
  assert.equal(parsePreview({ task: "explain" }), undefined);
  assert.equal(parsePreview(null), undefined);
  const p: Preview | undefined = parsePreview(preview("explain", "api"));
  assert.equal(p?.estimate.stages.length, 2);
});
