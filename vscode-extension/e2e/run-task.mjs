// Running a task from the editor, in a real VS Code: "Attune: Run Task on This File…"
// on a Python file, the tasks priced in a QuickPick, explain picked, its modal preview
// (stages, mode and reason, what the module's tokens rest on) confirmed, the
// progress notification following the server's stages, the output in a new Markdown
// editor, and the run's cost in the file's "last run" lens. The API is the tests'
// loopback fake (tests/support/serve_fake_anthropic.py, realistic replies, each held
// HOLD_S seconds so the progress can be seen), started here with the repo's Python;
// the server gets its key and URL through its environment. Then a second run, from the
// file's "Run…" lens, cancelled from its progress notification, whose lens says so.
// Then a Pro plan on the subscription: a run through Claude Code (the tests' stub), and
// "Open in Claude Code" starting it in a terminal with the prompt as its argument. Also the subscription
// usage status item, from a Claude Code log written into the world before start.
//
// Usage: node e2e/run-task.mjs --vsix attune-companion.vsix [--keep]
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { delimiter, join } from "node:path";
import { codeLines, createE2E, here, repoPython, LONG } from "./lib.mjs";

const HOLD_S = 1.5;
const support = join(here, "..", "tests", "support");

/** The fake API in its own process: its first stdout line is {base_url, api_key}; it stops when our stdin pipe closes. */
async function startFakeApi() {
  const proc = spawn(repoPython, [join(support, "serve_fake_anthropic.py"), "--delay", String(HOLD_S)], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const line = await new Promise((resolve, reject) => {
    const lines = createInterface({ input: proc.stdout });
    lines.once("line", resolve);
    proc.once("exit", (code) => reject(new Error(`the fake API exited (${code}) before it listened`)));
  });
  return { proc, ...JSON.parse(line) };
}

const fake = await startFakeApi();
const e2e = createE2E({
  name: "run-task",
  files: { "config_parser.py": codeLines(120) },
  env: { ANTHROPIC_API_KEY: fake.api_key, ANTHROPIC_BASE_URL: fake.base_url },
});
e2e.requirePlainPython();
const { check, figure, log, runPaletteCommand, quickPickRowText, pickQuickPick, openFile, waitForLens } = e2e;

// Claude Code's logs for the usage item: one message in a block that started ten minutes ago.
const claudeLogs = join(e2e.root, "claude-projects");
mkdirSync(claudeLogs);
e2e.env.ATTUNE_CLAUDE_LOGS = claudeLogs;
execFileSync(repoPython, ["-c", [
  "import sys",
  "from datetime import UTC, datetime, timedelta",
  `sys.path.insert(0, ${JSON.stringify(support)})`,
  "from claude_logs import ClaudeLogs",
  `logs = ClaudeLogs(__import__('pathlib').Path(${JSON.stringify(claudeLogs)}))`,
  "logs.write(logs.session_path(), logs.message(datetime.now(UTC) - timedelta(minutes=10), input_tokens=4000, output_tokens=160321))",
].join("\n")]);

// Claude Code for the subscription runs: the tests' stub (tests/support/claude_stub.py),
// named by ATTUNE_CLAUDE_BIN for the server and the extension alike.
const claudeBin = join(e2e.root, "claude-bin");
e2e.env.ATTUNE_CLAUDE_BIN = join(claudeBin, "claude");
execFileSync(repoPython, ["-c", [
  "import sys, pathlib",
  `sys.path.insert(0, ${JSON.stringify(support)})`,
  "from claude_stub import write_claude_stub",
  `write_claude_stub(pathlib.Path(${JSON.stringify(claudeBin)}))`,
].join("\n")]);
const stubCalls = () =>
  existsSync(join(claudeBin, "calls.jsonl"))
    ? readFileSync(join(claudeBin, "calls.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l))
    : [];

const cleanup = e2e.cleanup;
e2e.cleanup = async () => {
  fake.proc.kill("SIGTERM");
  await cleanup();
};

await e2e.run(async () => {
  await e2e.start();
  const page = e2e.page;
  await openFile("config_parser.py");
  await waitForLens(/\d lines/); // the server is running

  // ---- the usage status item (Claude Code's logs) ----
  const usage = page.locator(".statusbar-item", { hasText: /164K · \d h \d+ min left/ }).first();
  await usage.waitFor({ state: "visible", timeout: LONG });
  check("usage item: the block's tokens and the time left", true, (await usage.innerText()).trim());

  // ---- pick the task ----
  let t0 = performance.now();
  await runPaletteCommand("Attune: Run Task on This File…");
  const row = await quickPickRowText("Attune: Run Task on config_parser.py", "explain");
  figure("Run Task: palette → the four tasks priced in the QuickPick", `${Math.round(performance.now() - t0)} ms`, "—");
  check("QuickPick: explain priced on the API with its description", /≈\$[\d.]+ on the API/.test(row) && row.includes("Explain what the module does"), row);
  const others = await Promise.all(["document", "review", "tests"].map((t) => quickPickRowText("Attune: Run Task", t)));
  check("QuickPick: document, review and tests are priced too", others.every((r) => /on the API/.test(r)), others.join(" / "));
  await pickQuickPick("Attune: Run Task", "explain");

  // ---- the modal preview ----
  const dialog = page.locator(".monaco-dialog-box");
  await dialog.waitFor({ state: "visible", timeout: LONG });
  const preview = (await dialog.innerText()).replace(/\s+/g, " ");
  check("preview: the question, the mode and its reason",
    preview.includes("Attune: run explain on config_parser.py?") && /Mode: API — .*120 lines/.test(preview), preview);
  check("preview: each stage with its model, tokens and cost, and the total",
    /1\. map · claude-haiku-4-5 · [\d,]+ in \+ [\d,]+ out · \$[\d.]+/.test(preview) &&
      /2\. explain · claude-sonnet-4-6 · /.test(preview) && /Total: ≈\$[\d.]+ charged to your API key/.test(preview), preview);
  check("preview: what the module's tokens rest on", /Module: ≈[\d,]+ tokens \(default 4 tokens\/line\); no stage's output calibrated yet/.test(preview), preview);
  const estimate = /Total: ≈(\$[\d.]+)/.exec(preview)?.[1];
  t0 = performance.now();
  await dialog.locator(".monaco-button", { hasText: /^Run$/ }).click();

  // ---- progress, then the output ----
  const progress = page.locator(".notification-toast", { hasText: /\[1\/2\] map · claude-haiku-4-5 · running/ }).first();
  await progress.waitFor({ state: "visible", timeout: LONG });
  check("progress: the notification names the task and the stage running", (await progress.innerText()).includes("Attune: explain · config_parser.py"),
    (await progress.innerText()).replace(/\s+/g, " "));
  const second = page.locator(".notification-toast", { hasText: /\[2\/2\] explain · claude-sonnet-4-6 · running · [\d,]+ tokens so far/ }).first();
  await second.waitFor({ state: "visible", timeout: LONG });
  check("progress: the second stage follows, with the tokens so far", true, (await second.innerText()).replace(/\s+/g, " "));

  const done = page.locator(".notification-toast", { hasText: "Attune: explain of config_parser.py done" }).first();
  await done.waitFor({ state: "visible", timeout: LONG });
  const editorRunS = (performance.now() - t0) / 1000;
  const doneText = (await done.innerText()).replace(/\s+/g, " ");
  const cost = /(\$[\d.]+) on the API/.exec(doneText)?.[1];
  check("done: stages, tokens, cost against the estimate", /2 stages, [\d,]+ tokens, \$[\d.]+ on the API \(estimated ≈\$[\d.]+\)/.test(doneText) && doneText.includes(`estimated ≈${estimate}`), doneText);
  // An untitled editor's tab shows its first line; the tab's resource is Untitled-N.
  const tab = page.locator(".tab.active");
  const tabName = `${await tab.getAttribute("data-resource-name")} (${(await tab.innerText()).trim().slice(0, 30)})`;
  const editorText = (await page.locator(".editor-group-container.active .monaco-editor .view-lines").first().innerText()).replace(/\u00a0/g, " ");
  check("the output opens in a new untitled editor", /^Untitled-\d/.test(tabName) && editorText.includes("doc api fn."), `${tabName}: ${editorText.slice(0, 60)}`);
  const language = (await page.locator("#status\\.editor\\.mode").innerText()).trim();
  check("the output editor is Markdown", language === "Markdown", language);

  // The baseline, same fake, same file: `attune run explain --yes` in a terminal (spawn to exit),
  // with an ATTUNE_HOME of its own so its run stays out of the editor's lens.
  const cliHome = join(e2e.root, "cli-home");
  mkdirSync(cliHome);
  t0 = performance.now();
  execFileSync(repoPython, ["-m", "attune.cli", "run", "explain", join(e2e.workspace, "config_parser.py"), "--yes"], {
    env: { ...e2e.env, ATTUNE_HOME: cliHome, PYTHONPATH: [join(here, "..", "core"), join(here, "..", "server")].join(delimiter) },
    stdio: ["ignore", "ignore", "pipe"],
  });
  const cliRunS = (performance.now() - t0) / 1000;
  figure(`Run explain from the editor: Run → output editor (2 stages, the fake holding each answer ${HOLD_S} s)`, `${editorRunS.toFixed(1)} s`, "—");
  figure("  baseline, same run: `attune run explain FILE --yes` spawn → exit, same fake", `${cliRunS.toFixed(1)} s`, "—");

  // ---- the last-run lens ----
  await openFile("config_parser.py");
  const lenses = (await waitForLens(/last run \$/)).replace(/\s+/g, " "); // the line's lenses, " | " between them
  const lastRun = /last run \$[\d.]+[^|]*/.exec(lenses)?.[0]?.trim() ?? lenses;
  check("the file's last-run lens shows the run's cost", !!cost && lastRun.startsWith(`last run ${cost}`), `${lastRun} (run: ${cost})`);

  // ---- the Run… lens, then Cancel: the progress notification's button cancels the request ($/cancelRequest) ----
  await page.locator(".editor-group-container.active .codelens-decoration a", { hasText: /^Run…$/ }).first().click();
  check("the Run… lens opens the task QuickPick of its file", true,
    await quickPickRowText("Attune: Run Task on config_parser.py", "review"));
  await pickQuickPick("Attune: Run Task on config_parser.py", "review");
  await dialog.waitFor({ state: "visible", timeout: LONG });
  await dialog.locator(".monaco-button", { hasText: /^Run$/ }).click();
  const reviewing = page.locator(".notification-toast", { hasText: /\[1\/2\] scan · .* · running/ }).first();
  await reviewing.waitFor({ state: "visible", timeout: LONG });
  await reviewing.hover(); // the toast's buttons show on hover
  await reviewing.locator(".monaco-button", { hasText: /^Cancel$/ }).click();
  const cancelled = page.locator(".notification-toast", { hasText: "Attune: review of config_parser.py cancelled" }).first();
  await cancelled.waitFor({ state: "visible", timeout: LONG });
  const cancelledText = (await cancelled.innerText()).replace(/\s+/g, " ");
  check("Cancel during stage 1: the run stops and says so, with Show Logs", /Show Logs/.test(cancelledText), cancelledText);
  const lensesAfter = (await waitForLens(/last run [^|]*cancelled/)).replace(/\s+/g, " ");
  check("the cancelled run is the file's last run, named so in its lens", /last run \$[\d.]+ \(est\. \$[\d.]+[^)]*\)[^|]*cancelled/.test(lensesAfter), lensesAfter);

  // ---- a Pro plan on the subscription: the run goes through Claude Code; Open in Claude Code ----
  execFileSync(repoPython, ["-m", "attune.cli", "auth", "setup", "--tier", "pro", "--mode", "subscription"], {
    env: { ...e2e.env, PYTHONPATH: [join(here, "..", "core"), join(here, "..", "server")].join(delimiter) },
    stdio: ["ignore", "ignore", "pipe"],
  });
  await waitForLens(/Subscription/); // the server reloaded the strategy
  await runPaletteCommand("Attune: Run Task on This File…");
  const subRow = await quickPickRowText("Attune: Run Task on config_parser.py", "explain");
  check("Pro plan: the QuickPick prices explain on the subscription in tokens of quota", /\$0 on your subscription \(≈[\d,]+ tokens of quota\)/.test(subRow), subRow);
  await pickQuickPick("Attune: Run Task on config_parser.py", "explain");
  await dialog.waitFor({ state: "visible", timeout: LONG });
  const subPreview = (await dialog.innerText()).replace(/\s+/g, " ");
  const buttons = await dialog.locator(".monaco-button").allInnerTexts();
  check("Pro plan: the preview says subscription, prices the API as the other way, offers both and Claude Code",
    /Mode: Subscription \(Claude Code\)/.test(subPreview) && /On the API instead: ≈\$[\d.]+ on the API/.test(subPreview) &&
      ["Run", "Run on the API", "Open in Claude Code"].every((b) => buttons.map((t) => t.trim()).includes(b)), `${subPreview} [${buttons.join(", ")}]`);
  await dialog.locator(".monaco-button", { hasText: /^Run$/ }).click();
  const subDone = page.locator(".notification-toast", { hasText: /Attune: explain of config_parser\.py done .* \$0 on your subscription/ }).first();
  await subDone.waitFor({ state: "visible", timeout: LONG });
  const calls = stubCalls();
  check("the subscription run went through Claude Code: one `claude -p` per stage, without the API key",
    calls.length === 2 && calls.every((c) => c.argv.includes("-p") && !c.api_key_in_env), JSON.stringify(calls.map((c) => c.argv)));
  const subText = (await page.locator(".editor-group-container.active .monaco-editor .view-lines").first().innerText()).replace(/\u00a0/g, " ");
  check("its output (Claude Code's reply) opens in a new editor", subText.includes("Claude Code stub"), subText.slice(0, 80));

  await openFile("config_parser.py");
  await runPaletteCommand("Attune: Open in Claude Code…");
  await pickQuickPick("Attune: Open in Claude Code", "review");
  await page.locator(".part.panel", { hasText: "Claude Code · review · config_parser.py" }).first().waitFor({ state: "visible", timeout: LONG });
  // The stub reads its stdin (the terminal) before it records its arguments: end it with Ctrl+D.
  await page.locator(".part.panel .terminal-wrapper").first().click();
  await page.keyboard.press("Control+D");
  const deadline = Date.now() + LONG;
  while (stubCalls().length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100)); // the terminal's process starts
  const interactive = stubCalls()[2];
  check("Open in Claude Code: claude in a terminal, the prompt naming the task and the file as its one argument",
    !!interactive && interactive.argv.length === 1 && interactive.argv[0].startsWith('Attune task "review" on config_parser.py:'),
    JSON.stringify(interactive?.argv));
  log(`fake API at ${fake.base_url}`);
});
