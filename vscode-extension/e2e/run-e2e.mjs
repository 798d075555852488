// End-to-end test of the packaged extension in a real VS Code (code-server) driven
// through Debian's Chromium by playwright-core: the lenses, the details view, the
// setup wizard, the breaker status item, reset and undo, live settings, interpreter
// checks. The shared machinery (fresh install, browser, workbench helpers) is lib.mjs.
//
// Usage: node e2e/run-e2e.mjs --vsix attune-companion.vsix [--keep]
// Env:   ATTUNE_E2E_PYTHON (plain python3 for attune.interpreter), ATTUNE_REPO_PYTHON
//        (a Python with the project installed, to trip the breaker), ATTUNE_E2E_PYTHON_39,
//        _310, _312 (other versions; see scripts/test-e2e.sh), and lib.mjs's.
// Prints a Markdown table of figures on stdout; exits 1 on failure after saving screenshots.
// Saves .e2e-artifacts/lenses.png: the large file's three lenses, cropped to the editor.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { codeLines, createE2E, plainPython, repoPython, LONG, vsixSizeMB } from "./lib.mjs";

const e2e = createE2E({
  name: "run-e2e",
  files: { "small_module.py": codeLines(100), "large_module.py": codeLines(3000) },
});
e2e.requirePlainPython();
const { attuneHome, env, vsix, log, check, figure, runPaletteCommand, updateSettings, quickPickRowText, pickQuickPick,
  openFile, activeLensTexts, waitForLens, editorScreenshot, extLog } = e2e;

await e2e.run(async () => {
  figure(".vsix size", `${vsixSizeMB(vsix).toFixed(2)} MB`, "< 15 MB");
  await e2e.start();
  const page = e2e.page;

  // The server is up once the status item shows the breakers' healthy text
  // (it comes from the first attune/breakerStatus notification).
  const healthy = page.locator(".statusbar-item", { hasText: /^\s*Attune\s*$/ }).first();
  await healthy.waitFor({ state: "visible", timeout: LONG });
  check("status bar item shows the healthy text once the bundled server reports", true,
    `${(await healthy.innerText()).trim()} (id ${await healthy.getAttribute("id")})`);

  // The output channel reaches its log file a moment after the line is logged: poll it.
  const findStartLine = () => extLog().split("\n").find((l) => l.includes("Starting the Attune server")) ?? "";
  let startLine = findStartLine();
  for (let i = 0; !startLine && i < 100; i++) {
    await new Promise((r) => setTimeout(r, 200)); // polling a file the extension host flushes
    startLine = findStartLine();
  }
  check("the server runs on attune.interpreter (a plain python3 without the project: the bundled libs)",
    startLine.includes(`: ${plainPython} (setting), bundled libraries`), startLine.replace(/^.*\] /, ""));

  // ---- lenses ----
  let t0 = await openFile("small_module.py");
  await waitForLens(/· [\d,]+ lines?/);
  const smallMs = performance.now() - t0;
  const small = await activeLensTexts();
  check("100-line file: its lens reads 'Small · 100 lines'", small.includes("Small · 100 lines"), small);
  // The strategy starts as API only: a plan without subscription quota is never shown a subscription price.
  check("100-line file (API only): 'API (recommended)' and an API cost lens, no subscription figure",
    small.includes("API (recommended)") && /API ≈ \$[\d.]+/.test(small) && !/subscription|quota/i.test(small), small);
  const titles = await page.locator(".editor-group-container.active .codelens-decoration a").allInnerTexts();
  check("every lens title is at most 50 characters (nothing cut off at any editor width)",
    titles.length >= 3 && titles.every((t) => t.trim().length <= 50), titles.join(" | "));
  // VS Code shows a lens's tooltip in its hover widget when the pointer rests on the lens.
  const costLens = page.locator(".editor-group-container.active .codelens-decoration a", { hasText: "API ≈" }).first();
  await costLens.hover();
  const hover = page.locator(".workbench-hover, .monaco-hover", { hasText: "on the API" }).first();
  const costTooltip = (await costLens.getAttribute("title")) ||
    (await hover.waitFor({ state: "visible", timeout: 15_000 }).then(() => hover.innerText(), () => ""));
  await page.mouse.move(0, 0);
  check("the cost lens's tooltip has the stages and what the module's tokens rest on",
    (costTooltip ?? "").includes("document on the API") && (costTooltip ?? "").includes("tokens (default 4 tokens/line)"),
    (costTooltip ?? "").replace(/\s+/g, " ").slice(0, 160));

  t0 = await openFile("large_module.py");
  await waitForLens("Large ·");
  const largeMs = performance.now() - t0;
  const large = await activeLensTexts();
  check("3,000-line file: its lens reads 'Large · 3,000 lines'", large.includes("Large · 3,000 lines"), large);
  // The three lenses as they are drawn, cropped to the top of the editor (docs/images/lenses.png is one of these).
  await waitForLens("(recommended)");
  await waitForLens(/API ≈ \$/);
  const lensShot = await editorScreenshot("lenses.png");
  check("3,000-line file: a screenshot of its three lenses is saved", statSync(lensShot).size > 0,
    `${lensShot} (${Math.round(statSync(lensShot).size / 1024)} KB)`);
  figure("Open → first lens, 100-line file", `${Math.round(smallMs)} ms`, "< 3 s");
  figure("Open → first lens, 3,000-line file", `${Math.round(largeMs)} ms`, "< 3 s");

  // ---- a lens click opens the details view (pros/cons, formula, thresholds) ----
  await page.locator(".editor-group-container.active .codelens-decoration a", { hasText: "Large ·" }).first().click();
  await page.locator(".tab", { hasText: "Attune — large_module.py" }).first().waitFor({ state: "visible", timeout: LONG });
  const detailsText = (await page.locator(".editor-group-container.active .view-lines").first().innerText()).replace(/\u00a0/g, " ");
  check("clicking a lens opens a read-only details view with the size and each mode's pros and cons",
    detailsText.includes("Large module") && detailsText.includes("3,000 lines of code") && detailsText.includes("Subscription, API or auto"),
    detailsText.slice(0, 120).replace(/\s+/g, " "));
  await page.keyboard.press("Control+W").catch(() => {});

  // ---- setup wizard: Pro, then Auto, skip the key ----
  // The saved strategy is the default (None — API only), under which the 3,000-line
  // file runs on the API; step 2 must show the plan picked in step 1 (Pro).
  await openFile("large_module.py");
  await runPaletteCommand("Attune: Set Up Authentication");
  await pickQuickPick("(1/2)", "Pro");
  const subscriptionRow = await quickPickRowText("(2/2)", "Subscription");
  check("wizard step 2 is for the plan picked (Pro): the Subscription item has no 'no subscription quota' con",
    /Pros: .*Cons: .*Estimated for this file/.test(subscriptionRow) && !subscriptionRow.includes("no subscription quota"), subscriptionRow);
  const autoRow = await pickQuickPick("(2/2)", "Auto (recommended)");
  check("wizard: the Auto item recommends Pro's subscription for the large file, with pros, cons and its estimate",
    autoRow.includes("large_module.py: subscription") && /Pros: .*Cons: .*Estimated for this file/.test(autoRow), autoRow);
  await pickQuickPick("may use the Anthropic API", "Skip");
  await page.locator(".notification-toast", { hasText: "strategy saved" }).first().waitFor({ state: "visible", timeout: LONG });
  const strategyFile = join(attuneHome, "auth_strategy.json");
  const saved = JSON.parse(readFileSync(strategyFile, "utf8"));
  check("wizard: $ATTUNE_HOME/auth_strategy.json says pro / auto", saved.subscription_tier === "pro" && saved.default_mode === "auto",
    JSON.stringify({ subscription_tier: saved.subscription_tier, default_mode: saved.default_mode }));
  // The server refreshes lenses after the change: with Pro, a large module runs on the subscription.
  await openFile("large_module.py");
  const refreshed = await waitForLens("Subscription (recommended)");
  check("lenses refresh after the wizard: the large file now recommends the Pro subscription", true, refreshed.slice(0, 90));

  // ---- breaker tripped by another process ----
  execFileSync(repoPython, ["-c",
    "from attune.models import get_circuit_breaker as g; b=g(); [b.record_failure('anthropic','premium') for _ in range(5)]"],
    { env, stdio: "inherit", timeout: LONG });
  const tripped = page.locator(".statusbar-item", { hasText: /anthropic premium open · retry in \d/ }).first();
  await tripped.waitFor({ state: "visible", timeout: LONG });
  const trippedText = (await tripped.innerText()).replace(/\s+/g, " ");
  const cls = (await tripped.getAttribute("class")) ?? "";
  const bg = await tripped.evaluate((el) => getComputedStyle(el).backgroundColor);
  check("breaker tripped by another process: the status item names anthropic premium and a retry time", true, `${trippedText} (background ${bg}${cls.includes("error-kind") ? ", error kind" : ""})`);

  // ---- clicking the status item opens the breaker QuickPick; picking one resets it ----
  await tripped.click();
  await pickQuickPick("circuit breakers", "anthropic premium");
  await page.locator(".statusbar-item", { hasText: /^\s*Attune\s*$/ }).first().waitFor({ state: "visible", timeout: LONG });
  check("status item click → breaker QuickPick → reset anthropic premium: the item is healthy again", true);

  // ---- reset through the modal ----
  await runPaletteCommand("Attune: Reset Authentication");
  const dialog = page.locator(".monaco-dialog-box");
  await dialog.waitFor({ state: "visible", timeout: LONG });
  const dialogText = (await dialog.innerText()).replace(/\s+/g, " ");
  check("reset: the modal names the backup it will write", dialogText.includes(join(attuneHome, "backups")), dialogText);
  await dialog.locator(".monaco-button", { hasText: /^Reset$/ }).click();
  const toast = page.locator(".notification-toast", { hasText: "Backup:" }).first();
  await toast.waitFor({ state: "visible", timeout: LONG });
  const toastText = (await toast.innerText()).replace(/\s+/g, " ");
  const backup = /Backup: (\S+\.json)/.exec(toastText)?.[1];
  check("reset: the backup file named in the message exists under $ATTUNE_HOME/backups", !!backup && existsSync(backup) && backup.startsWith(join(attuneHome, "backups")), backup ?? toastText);
  check("reset: the backup holds the Pro strategy, and the message offers Undo",
    JSON.parse(readFileSync(backup, "utf8")).subscription_tier === "pro" && /Undo/.test(toastText), toastText);
  check("reset: the Pro strategy is gone (no file, or the defaults)",
    !existsSync(strategyFile) || JSON.parse(readFileSync(strategyFile, "utf8")).subscription_tier !== "pro");
  await toast.locator(".monaco-button", { hasText: "Undo" }).click();
  await page.locator(".notification-toast", { hasText: "strategy restored" }).first().waitFor({ state: "visible", timeout: LONG });
  check("Undo restores the backup: the strategy file says pro again", JSON.parse(readFileSync(strategyFile, "utf8")).subscription_tier === "pro");

  // ---- the read-only status view ----
  await runPaletteCommand("Attune: Show Auth Status");
  await page.locator(".tab", { hasText: "Attune Auth Status" }).first().waitFor({ state: "visible", timeout: LONG });
  const statusView = (await page.locator(".editor-group-container.active .view-lines").first().innerText()).replace(/\u00a0/g, " ");
  check("Show Auth Status: a read-only view with the strategy file path and the tier",
    statusView.replace(/\s+/g, "").includes(strategyFile) && statusView.includes("pro (Pro)"), // the view word-wraps
    statusView.replace(/\s+/g, " ").slice(0, 160));
  await page.keyboard.press("Control+W");

  // ---- lens settings reach the running server without a restart ----
  const starts = () => extLog().split("\n").filter((l) => l.includes("Starting the Attune server")).length;
  const startsBefore = starts();
  await updateSettings({ "attune.lens.show": ["size"] });
  await openFile("small_module.py");
  await page.waitForFunction(
    () => {
      const texts = [...document.querySelectorAll(".editor-group-container.active .codelens-decoration")].map((e) => e.textContent ?? "");
      return texts.some((t) => t.includes("Small ·")) && !texts.some((t) => t.includes("(recommended)"));
    },
    undefined,
    { timeout: LONG },
  );
  check("attune.lens.show = [size] in settings.json: only the size lens remains, server not restarted",
    starts() === startsBefore, `${await activeLensTexts()} (server starts: ${startsBefore} before, ${starts()} after)`);

  // ---- a too-old interpreter (3.10, the last one before the 3.11 minimum; else
  // 3.9; else a missing one): an error with actions, no crash loop ----
  // scripts/test-e2e.sh finds the interpreters (PATH, then pyenv's versions)
  const oldPython = [process.env.ATTUNE_E2E_PYTHON_310, process.env.ATTUNE_E2E_PYTHON_39]
    .find((p) => p && existsSync(p)) ?? "/nonexistent/python3";
  const oldVersion = /python(3\.\d+)$/.exec(oldPython)?.[1];
  await updateSettings({ "attune.interpreter": oldPython });
  const errorToast = page.locator(".notification-toast", { hasText: oldPython }).first();
  await errorToast.waitFor({ state: "visible", timeout: LONG });
  const errorText = (await errorToast.innerText()).replace(/\s+/g, " ");
  const saysWhy = oldVersion
    ? errorText.includes(`Python ${oldVersion}.`) && errorText.includes("is too old: Attune needs Python 3.11 or newer")
    : errorText.includes("was not found");
  check(`Python ${oldVersion ?? "(missing)"} at attune.interpreter: "${oldVersion ? "too old … 3.11 or newer" : "not found"}", with Select Interpreter and Show Logs`,
    saysWhy && errorText.includes("Select Interpreter") && errorText.includes("Show Logs"), errorText);
  await errorToast.locator(".monaco-button", { hasText: "Show Logs" }).click();
  await page.locator(".part.panel .monaco-editor .view-lines", { hasText: oldPython }).first().waitFor({ state: "visible", timeout: LONG });
  check("Show Logs opens the Attune output channel naming the interpreter", true);

  // ---- another Python version: the bundle runs on 3.11–3.13 (3.11 above) ----
  // It starts after a state with no server (the too-old interpreter above), so
  // any lens on screen comes from the new one.
  const lastStart = () => extLog().split("\n").filter((l) => l.includes("Starting the Attune server")).at(-1)?.replace(/^.*\] /, "") ?? "";
  // What the installed .vsix says it runs on (the build fails unless every version
  // it was built for passed its smoke test): a version in it must draw lenses, one
  // left out of the build (ATTUNE_BUNDLE_PYTHONS) must get the clear error.
  const bundle = JSON.parse(readFileSync(join(e2e.installedExtension(), "bundled", "libs", "attune_bundle.json"), "utf8"));
  for (const [version, interpreter] of [["3.12", process.env.ATTUNE_E2E_PYTHON_312 ?? ""]]) {
    if (!interpreter || !existsSync(interpreter)) {
      log(`no ${interpreter} here: Python ${version} not checked`);
      continue;
    }
    await updateSettings({ "attune.interpreter": interpreter, "attune.lens.show": ["size", "mode", "cost"] });
    if (!bundle.pythons.includes(version)) {
      const toast = page.locator(".notification-toast", { hasText: `Python ${version} cannot run the libraries bundled` }).first();
      await toast.waitFor({ state: "visible", timeout: LONG });
      const text = (await toast.innerText()).replace(/\s+/g, " ");
      check(`Python ${version}, which the bundle leaves out: an error naming the bundle's versions and the pip fallback`,
        text.includes(bundle.pythons.join(", ")) && text.includes("pip install attune-companion"), text.slice(0, 200));
      continue;
    }
    await openFile("large_module.py");
    // VS Code first shows the file's cached lenses (of an earlier strategy); the new
    // server's answer replaces them. Waiting for the expected text skips that cache.
    await waitForLens("Subscription (recommended)").catch(() => {});
    const lenses = await activeLensTexts();
    check(`Python ${version} (a plain interpreter without the project) runs the bundled server: the large file's lenses are drawn`,
      lastStart().includes(`Python ${version}.`) && lastStart().includes("bundled libraries") &&
        lenses.includes("Large · 3,000 lines") && lenses.includes("Subscription (recommended)"),
      `${lastStart()} → ${lenses.replace(/\s+/g, " ")} (strategy file: ${readFileSync(strategyFile, "utf8").replace(/\s+/g, " ")})`);
  }
});
