// The workspace overview in a real VS Code: "Attune: Show Workspace Overview" from the
// palette on a workspace of a few files (one with no code lines, some in subfolders)
// under a Pro plan in auto mode (small files on the API, the others on the subscription);
// the webview (nested iframes) shows one tile per file `attune scan` lists, each with
// its workspace-relative data-path and an aria-label holding the file's lens text (as
// `attune scan --html` renders it from the same core); hovering a tile shows its lens;
// clicking a tile opens the file; editing and saving it changes its tile's label.
// Saves .e2e-artifacts/overview.png: the overview panel with a tile's hover.
//
// Usage: node e2e/overview.mjs --vsix attune-companion.vsix [--keep]
import { execFileSync } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { artifacts, codeLines, createE2E, here, LONG, repoPython } from "./lib.mjs";

const FILES = {
  "main.py": codeLines(120),
  "pkg/engine.py": codeLines(600),
  "pkg/rules.py": codeLines(2400),
  "pkg/__init__.py": "# The package marker: a comment, no code.\n",
  "tools/report.py": codeLines(40),
  "tools/export.py": codeLines(300),
};
const EDITED = "pkg/engine.py";

const e2e = createE2E({ name: "overview", files: FILES });
e2e.requirePlainPython();
const { check, figure, log, runPaletteCommand } = e2e;

/** `attune` from the repo's sources, in the scenario's ATTUNE_HOME. */
const attune = (...args) =>
  execFileSync(repoPython, ["-m", "attune.cli", ...args], {
    env: { ...e2e.env, PYTHONPATH: [join(here, "..", "core"), join(here, "..", "server")].join(":") },
    encoding: "utf8",
  });

/** Polls until fn() returns a truthy value (the page changes by itself; no fixed sleep). */
async function until(what, fn, timeout = LONG) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

await e2e.run(async () => {
  attune("auth", "setup", "--tier", "pro", "--mode", "auto");
  const scanned = JSON.parse(attune("scan", e2e.workspace, "--json")).files.map((f) => f.path).sort();
  const reportFile = join(e2e.root, "report.html");
  attune("scan", e2e.workspace, "--html", reportFile);
  const embedded = /<script type="application\/json" id="attune-summary">([\s\S]*?)<\/script>/.exec(readFileSync(reportFile, "utf8"))[1];
  const summary = JSON.parse(embedded);
  const lensOf = new Map(summary.files.map((f) => [f.path, f.lens]));
  log(`attune scan lists ${scanned.join(", ")}`);

  await e2e.start();
  const page = e2e.page;
  await page.locator(".statusbar-item", { hasText: /^\s*Attune\s*$/ }).first().waitFor({ state: "visible", timeout: LONG });

  let t0 = performance.now();
  await runPaletteCommand("Attune: Show Workspace Overview");
  const frame = page.frameLocator("iframe.webview.ready").frameLocator("iframe#active-frame");
  const tiles = frame.locator(".tile[data-path]");
  await tiles.first().waitFor({ state: "visible", timeout: LONG }); // waits for the webview's frames too
  await until("a tile per file", async () => (await tiles.count()) === scanned.length);
  figure(`Show Workspace Overview → tiles drawn (${scanned.length} files)`, `${Math.round(performance.now() - t0)} ms`);

  // Once the webview has its size, every tile has an area.
  const shown = await until("every tile laid out", async () => {
    const all = await tiles.evaluateAll((els) =>
      els.map((el) => {
        const r = el.getBoundingClientRect();
        return { path: el.dataset.path, label: el.getAttribute("aria-label"), area: r.width * r.height };
      }),
    );
    return all.every((t) => t.area > 0) ? all : undefined;
  });
  check("one tile per file attune scan lists, by workspace-relative path",
    JSON.stringify(shown.map((s) => s.path).sort()) === JSON.stringify(scanned), shown.map((s) => s.path).join(", "));
  for (const s of shown) {
    const lens = lensOf.get(s.path);
    check(`${s.path}: its tile's aria-label holds its lens text`, Boolean(lens) && s.label.includes(lens), s.label);
    check(`${s.path}: its tile has an area`, s.area > 0, `${Math.round(s.area)} px²`);
  }
  const header = (await frame.locator("header").innerText()).replace(/\s+/g, " ");
  const rows = Object.entries({ ...summary.totals.by_mode, ...summary.totals.by_category }).map(
    ([key, t]) => `${{ api: "API" }[key] ?? key[0].toUpperCase() + key.slice(1)} · ${t.files} ${t.files === 1 ? "file" : "files"}`,
  );
  check("the header totals the files per mode and per size", rows.length >= 5 && rows.every((r) => header.includes(r)), `${rows.join("; ")} in: ${header}`);
  const modes = new Set(await tiles.evaluateAll((els) => els.map((el) => el.dataset.mode)));
  check("tiles are coloured by both recommended modes", modes.has("api") && modes.has("subscription"), [...modes].join(", "));

  // Hover: the tile's lens text in a tooltip.
  const edited = frame.locator(`.tile[data-path="${EDITED}"]`);
  await edited.hover();
  const tooltip = frame.locator(".tooltip");
  await tooltip.waitFor({ state: "visible", timeout: LONG });
  const tip = await tooltip.innerText();
  check("hovering a tile shows its path and lens text", tip.includes(EDITED) && tip.includes(lensOf.get(EDITED)), tip.replace(/\n/g, " | "));
  const shot = join(artifacts, "overview.png");
  await page.locator("iframe.webview.ready").screenshot({ path: shot });
  check("a screenshot of the overview is saved", statSync(shot).size > 0, shot);

  // Click: the file opens (beside the overview).
  await edited.click();
  await page.locator(".tab.active", { hasText: "engine.py" }).waitFor({ state: "visible", timeout: LONG });
  check("clicking a tile opens its file", true, EDITED);

  // Edit and save: the tile's label follows (600 -> 630 lines). Typed text reaches the
  // server as one didChange per line, so the edit stays the size of a hand's.
  const before = await edited.getAttribute("aria-label");
  const editor = page.locator(".editor-group-container.active .monaco-editor .view-lines").first();
  await editor.click();
  await page.keyboard.press("Control+End");
  await page.keyboard.insertText(codeLines(30).replace(/value_/g, "extra_"));
  t0 = performance.now();
  await page.keyboard.press("Control+S");
  const after = await until("the edited file's tile to change", async () => {
    const label = await edited.getAttribute("aria-label");
    return label !== before && label?.includes("630 lines") ? label : undefined;
  });
  figure("Save → the tile's label updated", `${Math.round(performance.now() - t0)} ms`, "< 2 s");
  check("after an edit and a save the file's tile shows the new size", after.includes("630 lines"), `${before} → ${after}`);
  const count = await tiles.count();
  check("every file still has its tile after the update", count === scanned.length, `${count} tiles`);
});
