// What every end-to-end scenario shares: a fresh world (ATTUNE_HOME, user data,
// workspace), code-server with the .vsix installed into that fresh user-data dir,
// Debian's Chromium driven by playwright-core, the workbench helpers (palette,
// QuickPicks, Quick Open, lenses, settings.json), checks, figures and cleanup.
//
// A scenario (e2e/<name>.mjs, run by scripts/test-e2e.sh):
//
//   import { createE2E } from "./lib.mjs";
//   const e2e = createE2E({ name: "overview", files: { "a.py": "x = 1\n" } });
//   await e2e.run(async ({ page, check, figure, openFile, waitForLens }) => {
//     await e2e.start();                       // install, code-server, browser, workbench visible
//     await openFile("a.py");
//     check("a lens", (await waitForLens("lines of code")).length > 0);
//     figure("Open → first lens", "123 ms", "< 3 s");
//   });
//
// run() prints the figures as a Markdown table on stdout (logs go to stderr), saves a
// screenshot on failure, stops code-server and the browser by their process ids,
// removes the world (unless --keep) and exits 1 on failure.
//
// Arguments: --vsix attune-companion.vsix [--keep]
// Env:   ATTUNE_E2E_CACHE (where scripts/setup-e2e.sh installed code-server and
//        playwright-core), ATTUNE_E2E_PYTHON (plain python3 for attune.interpreter),
//        ATTUNE_REPO_PYTHON (a Python with the project installed), ATTUNE_E2E_TIMEOUT_MS.
import { spawn, execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { cpus, tmpdir, homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";

export const here = resolve(import.meta.dirname, "..");
export const cache =
  process.env.ATTUNE_E2E_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "attune-e2e");
export const entry = join(cache, "node_modules", "code-server", "out", "node", "entry.js");
export const plainPython = process.env.ATTUNE_E2E_PYTHON ?? "/usr/bin/python3";
export const repoPython = process.env.ATTUNE_REPO_PYTHON ?? "python3";
export const artifacts = join(here, ".e2e-artifacts");
export const LONG = Number(process.env.ATTUNE_E2E_TIMEOUT_MS ?? 120_000); // the machine is shared and slow: generous waits, no fixed sleeps

/** Every line is code (cloc's definition), so lines of code == lines. */
export const codeLines = (n) => Array.from({ length: n }, (_, i) => `value_${i} = ${i}`).join("\n") + "\n";

/** The settings every scenario starts with: no trust dialog, no tips, attune.interpreter a plain python3. */
export const baseSettings = () => ({
  "security.workspace.trust.enabled": false,
  "workbench.startupEditor": "none",
  "workbench.tips.enabled": false,
  "extensions.autoCheckUpdates": false,
  "extensions.autoUpdate": false,
  "telemetry.telemetryLevel": "off",
  // Tests type settings.json as text: no auto-inserted brackets or quotes.
  "editor.autoClosingBrackets": "never",
  "editor.autoClosingQuotes": "never",
  "editor.autoSurround": "never",
  "attune.interpreter": plainPython,
});

const freePort = () =>
  new Promise((res, rej) => {
    const srv = createServer();
    srv.once("error", rej);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });

/**
 * A scenario's world and workbench. `files`: workspace-relative path → text;
 * `settings`: merged over baseSettings(); `env`: merged over the test's environment
 * (ATTUNE_HOME is the world's own; ANTHROPIC_API_KEY is removed unless given here).
 */
export function createE2E({ name = "e2e", files = {}, settings: extraSettings = {}, env: extraEnv = {} } = {}) {
  const { values: opts } = parseArgs({
    options: { vsix: { type: "string" }, keep: { type: "boolean", default: false } },
    strict: false,
  });
  const vsix = resolve(opts.vsix ?? join(here, "attune-companion.vsix"));
  if (!existsSync(entry)) throw new Error(`code-server not installed at ${entry}: run scripts/setup-e2e.sh`);
  if (!existsSync(vsix)) throw new Error(`no .vsix at ${vsix}: run npm run package`);
  const { chromium } = createRequire(join(cache, "node_modules", "x.js"))("playwright-core");

  const log = (msg) => console.error(`[${name} ${new Date().toISOString().slice(11, 19)}] ${msg}`);
  const figures = [];
  const checks = [];
  const check = (what, ok, detail = "") => {
    checks.push({ name: what, ok, detail });
    log(`${ok ? "PASS" : "FAIL"} ${what}${detail ? " — " + detail : ""}`);
    if (!ok) throw new Error(`${what}${detail ? ": " + detail : ""}`);
  };
  const figure = (what, measured, target = "—") => figures.push([what, measured, target]);

  // ---- a fresh world: ATTUNE_HOME, user data, workspace ----
  const root = mkdtempSync(join(tmpdir(), `attune-e2e-${name}-`));
  const attuneHome = join(root, "attune-home");
  const userData = join(root, "user-data");
  const extensionsDir = join(userData, "ext");
  const workspace = join(root, "workspace");
  for (const d of [attuneHome, join(userData, "User"), workspace]) mkdirSync(d, { recursive: true });
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(dirname(join(workspace, file)), { recursive: true });
    writeFileSync(join(workspace, file), text);
  }

  const settingsFile = join(userData, "User", "settings.json");
  let settings = { ...baseSettings(), ...extraSettings };
  writeFileSync(settingsFile, JSON.stringify(settings, null, 2));

  const env = { ...process.env, ATTUNE_HOME: attuneHome };
  delete env.ANTHROPIC_API_KEY; // no test needs a key unless it says so, and none must leak into logs
  Object.assign(env, extraEnv);

  const e2e = {
    name, opts, vsix, root, attuneHome, userData, extensionsDir, workspace, settingsFile, env,
    page: undefined, codeServer: undefined, browserServer: undefined,
    log, check, checks, figure, figures,
    /** ms timestamps (performance.now()) of the start's steps, filled by start(). */
    times: {},
  };

  /** The interpreter must be a plain Python without the project, so the bundled libs run. */
  e2e.requirePlainPython = (python = plainPython) => {
    let hasAttune = true;
    try {
      execFileSync(python, ["-c", "import attune.models"], { stdio: "ignore" });
    } catch {
      hasAttune = false;
    }
    if (hasAttune) throw new Error(`${python} has attune installed; give a plain python3 in ATTUNE_E2E_PYTHON`);
  };

  /** Installs the .vsix into the fresh user-data dir, starts code-server and the browser, waits for the workbench.
   * `open`: a workspace-relative file the window opens with, as `code-server FILE` (or `code FILE`) opens it. */
  e2e.start = async ({ open } = {}) => {
    const t = e2e.times;
    t.install = performance.now();
    log(`installing ${vsix} into a fresh user-data-dir`);
    execFileSync(
      process.execPath,
      [entry, "--user-data-dir", userData, "--extensions-dir", extensionsDir, "--install-extension", vsix],
      { env, stdio: ["ignore", "pipe", "inherit"], timeout: LONG },
    );
    const port = await freePort();
    log(`starting code-server on 127.0.0.1:${port}`);
    t.codeServer = performance.now();
    e2e.codeServer = spawn(
      process.execPath,
      [entry, "--auth", "none", "--bind-addr", `127.0.0.1:${port}`, "--user-data-dir", userData,
        "--extensions-dir", extensionsDir, "--disable-telemetry", "--disable-update-check",
        "--disable-workspace-trust", workspace],
      { env, detached: true, stdio: ["ignore", "pipe", "pipe"] },
    );
    let serverLog = "";
    e2e.codeServer.stdout.on("data", (d) => (serverLog += d));
    e2e.codeServer.stderr.on("data", (d) => (serverLog += d));
    // VS Code's web workbench opens the files of its `payload` query (what `code-server FILE` sends a running window).
    const payload = open ? `&payload=${encodeURIComponent(JSON.stringify([["openFile", `vscode-remote://127.0.0.1:${port}${join(workspace, open)}`]]))}` : "";
    const url = `http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}${payload}`;
    for (let i = 0; ; i++) {
      try {
        const r = await fetch(`http://127.0.0.1:${port}/healthz`);
        if (r.ok) break;
      } catch { /* not listening yet */ }
      if (e2e.codeServer.exitCode !== null || i > 600) throw new Error(`code-server did not start:\n${serverLog}`);
      await new Promise((r) => setTimeout(r, 200)); // polling a port, not waiting on the UI
    }

    e2e.browserServer = await chromium.launchServer({
      executablePath: "/usr/bin/chromium",
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"],
    });
    const browser = await chromium.connect(e2e.browserServer.wsEndpoint());
    const context = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
    const page = await context.newPage();
    e2e.page = page;
    page.setDefaultTimeout(LONG);
    t.navigate = performance.now();
    await page.goto(url);
    await page.locator(".monaco-workbench").waitFor({ state: "visible", timeout: LONG });
    t.workbench = performance.now();
    log("workbench loaded");
    return page;
  };

  /** Stops the browser and code-server (its process group: extension host, Python server) and removes the world. */
  e2e.cleanup = async () => {
    try {
      await e2e.browserServer?.close();
    } catch { /* already gone */ }
    const bpid = e2e.browserServer?.process()?.pid;
    if (bpid) {
      try {
        process.kill(bpid, "SIGKILL");
      } catch { /* already gone */ }
    }
    if (e2e.codeServer?.pid) {
      try {
        process.kill(-e2e.codeServer.pid, "SIGTERM");
      } catch { /* already gone */ }
    }
    if (!opts.keep) rmSync(root, { recursive: true, force: true });
  };

  e2e.screenshot = async (shot) => {
    if (!e2e.page) return;
    mkdirSync(artifacts, { recursive: true });
    const file = join(artifacts, `${new Date().toISOString().replace(/[:.]/g, "-")}-${name}-${shot}.png`);
    try {
      await e2e.page.screenshot({ path: file, timeout: 20_000 });
      console.error(`screenshot: ${file}`);
    } catch (err) {
      log(`screenshot failed: ${err}`);
    }
  };

  /** Saves the top `height` pixels of the active editor group (tabs, lenses, first lines) to
   * .e2e-artifacts/<file>, with the side bar hidden meanwhile so a long lens line fits. */
  e2e.editorScreenshot = async (file, height = 300) => {
    const page = e2e.page;
    mkdirSync(artifacts, { recursive: true });
    const path = join(artifacts, file);
    const sideBar = page.locator(".part.sidebar");
    const hadSideBar = await sideBar.isVisible();
    if (hadSideBar) {
      await page.keyboard.press("Control+B"); // View: Toggle Primary Side Bar Visibility
      await sideBar.waitFor({ state: "hidden", timeout: LONG });
    }
    try {
      await page.mouse.move(0, 999); // no hover over the lenses
      const box = await page.locator(".editor-group-container.active").first().boundingBox();
      if (!box) throw new Error("no active editor group to screenshot");
      await page.screenshot({ path, clip: { x: box.x, y: box.y, width: box.width, height: Math.min(height, box.height) } });
    } finally {
      if (hadSideBar) {
        await page.keyboard.press("Control+B");
        await sideBar.waitFor({ state: "visible", timeout: LONG });
      }
    }
    console.error(`screenshot: ${path}`);
    return path;
  };

  // ---- workbench helpers ----
  e2e.runPaletteCommand = async (title) => {
    const page = e2e.page;
    await page.keyboard.press("Escape");
    await page.locator(".monaco-editor, .monaco-workbench").first().click({ position: { x: 5, y: 5 } }).catch(() => {});
    await page.keyboard.press("Control+Shift+P");
    const input = page.locator(".quick-input-widget input.input");
    await input.waitFor({ state: "visible", timeout: LONG });
    await input.fill(">" + title);
    const row = page.locator(".quick-input-list .monaco-list-row", { hasText: title }).first();
    await row.waitFor({ state: "visible", timeout: LONG });
    await row.click();
  };

  /** Edits settings the way a user does: in the settings.json editor, then saves. */
  e2e.updateSettings = async (patch) => {
    const page = e2e.page;
    settings = { ...settings, ...patch };
    await e2e.runPaletteCommand("Preferences: Open User Settings (JSON)");
    const editor = page.locator(".editor-group-container.active .monaco-editor", { has: page.locator(".view-lines") }).first();
    await page.locator(".tab.active", { hasText: "settings.json" }).waitFor({ state: "visible", timeout: LONG });
    await editor.locator(".view-lines").click();
    await page.keyboard.press("Control+A");
    await page.keyboard.insertText(JSON.stringify(settings));
    await page.keyboard.press("Control+S");
    const wanted = JSON.stringify(settings);
    const deadline = Date.now() + LONG;
    while (readFileSync(settingsFile, "utf8").trim() !== wanted) {
      if (Date.now() > deadline) throw new Error(`settings.json was not saved as typed: ${readFileSync(settingsFile, "utf8")}`);
      await new Promise((r) => setTimeout(r, 100)); // polling the file VS Code writes
    }
    await page.keyboard.press("Control+W");
  };

  /** Waits for a QuickPick whose title contains `title`, then returns the row whose label is `label`. */
  e2e.quickPickRow = async (title, label) => {
    const page = e2e.page;
    await page.locator(".quick-input-widget .quick-input-title", { hasText: title }).waitFor({ state: "visible", timeout: LONG });
    const row = page
      .locator(".quick-input-widget .quick-input-list .monaco-list-row")
      .filter({ has: page.locator(".label-name", { hasText: new RegExp(`^\\s*${label.replace(/[()]/g, "\\$&")}\\s*$`) }) })
      .first();
    await row.waitFor({ state: "visible", timeout: LONG });
    return row;
  };

  e2e.quickPickRowText = async (title, label) => (await (await e2e.quickPickRow(title, label)).innerText()).replace(/\s+/g, " ");

  e2e.pickQuickPick = async (title, label) => {
    const row = await e2e.quickPickRow(title, label);
    const text = (await row.innerText()).replace(/\s+/g, " ");
    await row.click();
    return text;
  };

  /** Opens a workspace file through Quick Open; returns performance.now() at the click. */
  e2e.openFile = async (file) => {
    const page = e2e.page;
    await page.keyboard.press("Escape");
    await page.keyboard.press("Control+P");
    const input = page.locator(".quick-input-widget input.input");
    await input.waitFor({ state: "visible", timeout: LONG });
    await input.fill(file);
    const row = page.locator(".quick-input-list .monaco-list-row .label-name", { hasText: new RegExp(`^${file.replace(/\./g, "\\.")}$`) }).first();
    await row.waitFor({ state: "visible", timeout: LONG });
    const t0 = performance.now();
    await row.click();
    await page.locator(`.tab.active`, { hasText: file }).waitFor({ state: "visible", timeout: LONG });
    return t0;
  };

  /** Text of every lens shown in the active editor, joined by " | ". */
  e2e.activeLensTexts = async () => {
    const lenses = e2e.page.locator(".editor-group-container.active .monaco-editor .codelens-decoration");
    return (await lenses.allInnerTexts()).join(" | ").replace(/\u00a0/g, " ");
  };

  e2e.waitForLens = async (pattern, timeout = LONG) => {
    const lens = e2e.page.locator(".editor-group-container.active .monaco-editor .codelens-decoration", { hasText: pattern }).first();
    await lens.waitFor({ state: "visible", timeout });
    return (await lens.innerText()).replace(/\u00a0/g, " ");
  };

  /** The extension's "Attune" output channel as written to the extension host's log folder. */
  e2e.extLog = () => {
    const logs = join(userData, "logs");
    if (!existsSync(logs)) return "";
    for (const session of readdirSync(logs).sort().reverse()) {
      for (const host of readdirSync(join(logs, session)).filter((h) => h.startsWith("exthost"))) {
        const f = join(logs, session, host, "attune.attune-companion", "Attune.log");
        if (existsSync(f)) return readFileSync(f, "utf8");
      }
    }
    return "";
  };

  /** The installed extension's folder (under the fresh extensions dir). */
  e2e.installedExtension = () => {
    const dir = readdirSync(extensionsDir).find((d) => d.startsWith("attune.attune-companion"));
    return dir ? join(extensionsDir, dir) : undefined;
  };

  /** Runs the scenario; prints the figures and the result, cleans up and exits (1 on failure). */
  e2e.run = async (scenario) => {
    const started = performance.now();
    let failed = false;
    try {
      await scenario(e2e);
    } catch (err) {
      failed = true;
      console.error(`E2E FAILED (${name}): ${err?.stack ?? err}`);
      await e2e.screenshot("failure");
    } finally {
      await e2e.cleanup();
    }
    figure(`Whole ${name} run (install, start, all checks)`, `${((performance.now() - started) / 1000).toFixed(1)} s`);
    console.log(`\n## ${name}\n\n${figuresTable(figures)}\n\n${machine()}`);
    console.log(`\nE2E ${failed ? "FAILED" : "PASSED"} (${name}): ${checks.filter((c) => c.ok).length}/${checks.length} checks passed`);
    process.exit(failed ? 1 : 0);
  };

  return e2e;
}

export const figuresTable = (figures) =>
  ["| Figure | Measured | Target |", "|---|---:|---|", ...figures.map((f) => `| ${f.join(" | ")} |`)].join("\n");

export const vsixSizeMB = (vsix) => statSync(vsix).size / 1e6;

export function machine() {
  let cpu = "unknown CPU";
  try {
    cpu = readFileSync("/proc/cpuinfo", "utf8").match(/model name\s*:\s*(.*)/)?.[1] ?? cpu;
  } catch { /* not Linux */ }
  const codeServer = JSON.parse(readFileSync(join(cache, "node_modules", "code-server", "package.json"), "utf8")).version;
  const chromium = execFileSync("/usr/bin/chromium", ["--version"], { stdio: ["ignore", "pipe", "ignore"] }).toString().trim();
  return `Machine: ${cpus().length} cores (${cpu}), code-server ${codeServer}, Chromium ${chromium}`;
}
