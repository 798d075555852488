// Cold start in a real VS Code: on a fresh install (new user-data dir, the .vsix just
// installed, nothing compiled by an earlier start), the time from the workbench
// becoming visible to the first lens of a Python file that is open, and where that
// time goes (VS Code's extension host, activation, interpreter check, server start,
// first lens) from the logs' timestamps. The file is open with the window, as
// `code FILE` (or `code-server FILE`) opens it; ATTUNE_E2E_COLD_OPEN=quick-open opens
// it from Quick Open once the workbench shows instead (what a user who starts VS Code
// on a folder does first; the clock then includes Quick Open's wait for the start).
// The baseline of the same run: a second file's open → lens with the server running.
// The figures are reported (a table on stdout), not asserted; the checks are what
// they rest on. ATTUNE_E2E_TRACE=1 adds the LSP trace to the extension's log (with
// --keep, to read it).
//
// Usage: node e2e/cold-start.mjs --vsix attune-companion.vsix [--keep]
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { codeLines, createE2E, plainPython, vsixSizeMB } from "./lib.mjs";

const ANY_LENS = /\S/;
const e2e = createE2E({
  name: "cold-start",
  files: { "cold_module.py": codeLines(400), "second_module.py": codeLines(400) },
  settings: process.env.ATTUNE_E2E_TRACE ? { "attune.trace.server": "verbose" } : {},
});
e2e.requirePlainPython();
const { check, figure, log, openFile, waitForLens, extLog, userData } = e2e;

/** Wall-clock ms of the first line of `text` that matches `pattern` (VS Code's log format). */
function stamp(text, pattern) {
  const line = text.split("\n").find((l) => pattern.test(l));
  const m = line && /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d\.\d{3})/.exec(line);
  return m ? Date.parse(`${m[1]}T${m[2]}`) - new Date().getTimezoneOffset() * 60_000 : undefined;
}

/** The extension host's own log (its start, activation events and times): remoteexthost.log in code-server. */
function extHostLog() {
  const logs = join(userData, "logs");
  for (const session of readdirSync(logs).sort().reverse()) {
    for (const host of readdirSync(join(logs, session)).filter((h) => h.startsWith("exthost"))) {
      for (const name of ["remoteexthost.log", "exthost.log"]) {
        const f = join(logs, session, host, name);
        if (existsSync(f)) return readFileSync(f, "utf8");
      }
    }
  }
  return "";
}

const quickOpen = process.env.ATTUNE_E2E_COLD_OPEN === "quick-open";
const FIRST = "cold_module.py";

await e2e.run(async () => {
  await e2e.start(quickOpen ? {} : { open: FIRST });
  const workbenchWall = Date.now() - (performance.now() - e2e.times.workbench);

  // The clock runs from the workbench to the file's first lens, whatever the lens says.
  const clicked = quickOpen ? await openFile(FIRST) : e2e.times.workbench;
  await e2e.page.locator(".tab.active", { hasText: FIRST }).waitFor({ state: "visible" });
  const tabMs = performance.now() - e2e.times.workbench;
  await waitForLens(ANY_LENS);
  const coldMs = performance.now() - e2e.times.workbench;
  const lensWall = Date.now();

  const t0 = await openFile("second_module.py");
  await waitForLens(ANY_LENS);
  const warmMs = performance.now() - t0;

  const ext = extLog();
  const host = extHostLog();
  const hostStarted = stamp(host, /Extension host with pid/);
  const activated = stamp(host, /_doActivateExtension attune\.attune-companion/);
  const activationEvent = /attune\.attune-companion.*activationEvent: '([^']+)'/.exec(host)?.[1] ?? "?";
  const starting = stamp(ext, /Starting the Attune server/);
  const running = stamp(ext, /The Attune server is running/);
  const rel = (wall) => (wall === undefined ? "?" : `${Math.round(wall - workbenchWall)} ms`);
  log(`workbench visible at ${new Date(workbenchWall).toISOString()}, first lens at ${new Date(lensWall).toISOString()}`);
  const opened = quickOpen ? `clicked in Quick Open ${Math.round(clicked - e2e.times.workbench)} ms` : "open with the window";
  log(`timeline from the workbench: file ${opened}, its tab shown ${Math.round(tabMs)} ms, ` +
    `extension host ${rel(hostStarted)}, activation ${rel(activated)} (${activationEvent}), server start ${rel(starting)}, ` +
    `server running ${rel(running)}, first lens ${Math.round(lensWall - workbenchWall)} ms`);
  for (const line of ext.split("\n").filter((l) => /Attune server|byte-code|interpreter|Lens request/i.test(l)).slice(0, 8)) {
    log(`  ${line.replace(/^\S+ \S+ /, "")}`);
  }

  const startLine = ext.split("\n").find((l) => l.includes("Starting the Attune server")) ?? "";
  check("the server runs the bundled libraries on a plain python3", startLine.includes(`: ${plainPython} (setting), bundled libraries`),
    startLine.replace(/^.*\] /, ""));
  // The interpreter is a setting and there is no Python extension: the bundle spawned
  // the server before `activate` (common/headStart.ts) and the first start adopted it
  // (unless ATTUNE_LSP_NO_HEAD_START=1, which measures the start without it).
  const headStart = process.env.ATTUNE_LSP_NO_HEAD_START !== "1";
  check(headStart ? "the server was spawned while VS Code built the extension context (the head start)"
    : "ATTUNE_LSP_NO_HEAD_START=1: the server was spawned after activation",
  /\(spawned \d+ ms before activation, /.test(startLine) === headStart, startLine.replace(/^.*\(/, "("));
  figure(`Fresh install: workbench visible → first lens of the Python file ${quickOpen ? "opened from Quick Open" : "open with the window"}`,
    `${Math.round(coldMs)} ms`, "< 3 s");
  figure(`  of which: workbench → the file's tab shown${quickOpen ? " (Quick Open, then the click)" : ""}`, `${Math.round(tabMs)} ms`, "—");
  figure("  of which: workbench → extension host started (VS Code's own)", rel(hostStarted), "—");
  figure(`  of which: workbench → extension activated (${activationEvent})`, rel(activated), "—");
  figure("  of which: workbench → server started (interpreter checked)", rel(starting), "—");
  figure("  of which: workbench → server running (initialized)", rel(running), "—");
  figure("Baseline, same run: a second file's open → first lens", `${Math.round(warmMs)} ms`, "—");
  figure(".vsix size", `${vsixSizeMB(e2e.vsix).toFixed(2)} MB`, "< 15 MB");

  // What the figures rest on (the figures themselves are reported, not asserted).
  check("opening the Python file activated the extension (onLanguage), not the end of start-up", activationEvent === "onLanguage",
    activationEvent);
  const extDir = e2e.installedExtension();
  const tag = `cpython-${execFileSync(plainPython, ["-c", "import sys; print('%d%d' % sys.version_info[:2])"]).toString().trim()}`;
  const shipped = (dir) => readdirSync(dir, { recursive: true }).filter((f) => String(f).endsWith(`.${tag}.pyc`)).length;
  const pycs = shipped(join(extDir, "bundled", "libs"));
  check(`the fresh install carries byte-code of the server's start path for ${tag}`, pycs > 0,
    `${pycs} .pyc files (lsprotocol/types: ${existsSync(join(extDir, "bundled", "libs", "lsprotocol", "__pycache__", `types.${tag}.pyc`))})`);
  const attrsCache = join(extDir, "bundled", "libs", "attr", "__pycache__", `_make.${tag}.attune-attrs-methods`);
  check(`the fresh install carries the byte-code of attrs's generated methods for ${tag}`, existsSync(attrsCache),
    existsSync(attrsCache) ? `${(statSync(attrsCache).size / 1e6).toFixed(2)} MB` : `${attrsCache} missing`);

  // ---- the walkthrough a fresh install offers ----
  await e2e.runPaletteCommand("Welcome: Open Walkthrough...");
  await e2e.page.locator(".quick-input-list .monaco-list-row", { hasText: "Get Started with Attune" }).first().click();
  const steps = ["Set up your plan", "Read a lens", "Open the overview", "Run a task"];
  const container = e2e.page.locator(".gettingStartedContainer");
  for (const title of steps) await container.getByText(title, { exact: true }).first().waitFor({ state: "visible" });
  check("Welcome: Open Walkthrough → Get Started with Attune shows its four steps", true, steps.join(" · "));
});
