// Entry point: palette commands, the breaker status bar item, read-only views.
// Rules live in the server (and the core behind it); this file is UI glue.
import * as path from "node:path";
import * as vscode from "vscode";
import type { LanguageClient } from "vscode-languageclient/node";
import {
  breakerPickItems,
  breakerStatusView,
  describeKey,
  newlyOpened,
  parseBreakerPayload,
  type BreakerPayload,
  type BreakerPickItem,
} from "./breakerStatus";
import { renderAuthStatus, renderDetails } from "./documents";
import { pythonExtensionApi } from "./interpreter";
import { AttuneServer, SECRET_KEY } from "./server";
import { MIN_PYTHON_TEXT, RESTART_SETTINGS } from "./settings";
import {
  apiKeyOfferItems,
  detailsArguments,
  findProsCons,
  mayUseApi,
  modeItems,
  modeLabel,
  setupArguments,
  tierItems,
  tierLabel,
  type ModeItem,
  type TierItem,
} from "./wizard";

const DOC_SCHEME = "attune-view";

class ReadOnlyViews implements vscode.TextDocumentContentProvider {
  private readonly contents = new Map<string, string>();
  private readonly emitter = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.emitter.event;
  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.contents.get(uri.toString()) ?? "";
  }
  async show(name: string, markdown: string): Promise<void> {
    const uri = vscode.Uri.from({ scheme: DOC_SCHEME, path: `/${name}.md` });
    this.contents.set(uri.toString(), markdown);
    this.emitter.fire(uri);
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.languages.setTextDocumentLanguage(doc, "markdown");
    await vscode.window.showTextDocument(doc, { preview: true, viewColumn: vscode.ViewColumn.Beside });
  }
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const output = vscode.window.createOutputChannel("Attune", { log: true });
  const views = new ReadOnlyViews();
  let breakers: BreakerPayload | undefined;

  // ---- status bar: the breakers -------------------------------------------
  const item = vscode.window.createStatusBarItem("attune.breakers", vscode.StatusBarAlignment.Right, 100);
  item.name = "Attune circuit breakers";
  item.command = "attune.showBreakerStatus";
  let ticker: NodeJS.Timeout | undefined;
  const render = () => {
    const view = breakerStatusView(breakers, new Date());
    item.text = view.text;
    const tip = new vscode.MarkdownString(view.tooltip);
    tip.supportThemeIcons = true;
    item.tooltip = tip;
    item.backgroundColor =
      view.severity === "error"
        ? new vscode.ThemeColor("statusBarItem.errorBackground")
        : view.severity === "warning"
          ? new vscode.ThemeColor("statusBarItem.warningBackground")
          : undefined;
    if (view.ticking && !ticker) ticker = setInterval(render, 1000);
    if (!view.ticking && ticker) {
      clearInterval(ticker);
      ticker = undefined;
    }
  };
  render();
  item.show();
  context.subscriptions.push(item, { dispose: () => ticker && clearInterval(ticker) });

  const onBreakerStatus = (params: unknown) => {
    const next = parseBreakerPayload(params);
    if (!next) {
      output.warn("Ignored an attune/breakerStatus notification of an unexpected shape.");
      return;
    }
    const opened = newlyOpened(breakers, next);
    breakers = next;
    render();
    if (opened.length && vscode.workspace.getConfiguration("attune").get<boolean>("showNotifications") !== false) {
      void vscode.window.showWarningMessage(
        `Attune: circuit breaker open for ${opened.map(describeKey).join(", ")}.`,
        "Show Breakers",
      ).then((pick) => pick && vscode.commands.executeCommand("attune.showBreakerStatus"));
    }
  };

  // ---- the server -----------------------------------------------------------
  const rewriteLens = (lens: vscode.CodeLens): vscode.CodeLens => {
    if (lens.command?.command === "attune.server.showDetails") {
      lens.command = { ...lens.command, command: "attune.showDetails" };
    }
    return lens;
  };
  const server = new AttuneServer(context, output, {
    onNotification: (client: LanguageClient) => {
      client.onNotification("attune/breakerStatus", onBreakerStatus);
    },
    middleware: {
      provideCodeLenses: async (doc, token, next) => (await next(doc, token))?.map(rewriteLens),
      resolveCodeLens: async (lens, token, next) => {
        const r = await next(lens, token);
        return r ? rewriteLens(r) : r;
      },
    },
  });
  context.subscriptions.push(output, server, vscode.workspace.registerTextDocumentContentProvider(DOC_SCHEME, views));
  // Breaker states from a server that is gone would be stale: back to "waiting".
  context.subscriptions.push(
    server.onHealth((health) => {
      if (health !== "running" && breakers) {
        breakers = undefined;
        render();
      }
    }),
  );

  const fail = (what: string, err: unknown) => {
    const msg = err instanceof Error ? err.message : String(err);
    output.error(`${what}: ${msg}`);
    void vscode.window.showErrorMessage(`Attune: ${what}: ${msg}`, "Show Logs").then((p) => p && output.show());
  };
  const activeFileUri = (): vscode.Uri | undefined => {
    const doc = vscode.window.activeTextEditor?.document;
    return doc && (doc.uri.scheme === "file" || doc.uri.scheme === "untitled") ? doc.uri : undefined;
  };
  const register = (id: string, fn: (...args: any[]) => unknown) =>
    context.subscriptions.push(vscode.commands.registerCommand(id, fn));

  // ---- commands -------------------------------------------------------------
  register("attune.setupAuth", async () => {
    let current: string | undefined;
    try {
      const status = await server.execute<Record<string, unknown>>("attune.server.authStatus");
      current = typeof status?.subscription_tier === "string" ? status.subscription_tier : undefined;
    } catch {
      /* the wizard still works without the current value */
    }
    const tier = await vscode.window.showQuickPick<TierItem>(tierItems(current), {
      title: "Attune: Set Up Authentication (1/2)",
      placeHolder: "Which Claude plan do you have?",
      ignoreFocusOut: true,
    });
    if (!tier) return;
    const uri = activeFileUri();
    let prosCons;
    if (uri) {
      try {
        // Pros/cons and Auto's recommendation for the plan just picked, not the saved one.
        prosCons = findProsCons(await server.execute("attune.server.showDetails", detailsArguments(uri.toString(), tier.value)));
      } catch (err) {
        output.warn(`No per-file pros/cons for the wizard: ${String(err)}`);
      }
    }
    const mode = await vscode.window.showQuickPick<ModeItem>(modeItems(prosCons, uri ? path.basename(uri.fsPath) : undefined), {
      title: `Attune: Set Up Authentication (2/2) · ${tier.label}`,
      placeHolder: uri ? `How should files run? Estimates are for ${path.basename(uri.fsPath)}.` : "How should files run?",
      matchOnDetail: false,
      ignoreFocusOut: true,
    });
    if (!mode) return;
    let storedKey = false;
    if (mayUseApi(mode.value) && !(await context.secrets.get(SECRET_KEY))) {
      const offer = await vscode.window.showQuickPick(apiKeyOfferItems(), {
        title: "Attune: this choice may use the Anthropic API",
        placeHolder: "Store an API key now? (optional)",
        ignoreFocusOut: true,
      });
      if (offer?.store) storedKey = await storeApiKey();
    }
    try {
      await server.execute("attune.server.setupAuth", setupArguments(tier.value, mode.value));
    } catch (err) {
      fail("saving the strategy failed", err);
      return;
    }
    if (storedKey) await server.restart(); // the server reads the key from its environment
    void vscode.window.showInformationMessage(`Attune: strategy saved — ${tierLabel(tier.value)} · ${modeLabel(mode.value)}.`);
  });

  const storeApiKey = async (): Promise<boolean> => {
    const key = await vscode.window.showInputBox({
      title: "Attune: Anthropic API key",
      prompt: "Kept in VS Code's secret storage; the Attune server gets it through its environment.",
      password: true,
      ignoreFocusOut: true,
      validateInput: (v) => (v.trim() ? undefined : "Paste a key, or press Escape to skip."),
    });
    if (!key?.trim()) return false;
    await context.secrets.store(SECRET_KEY, key.trim());
    return true;
  };
  register("attune.storeApiKey", async () => {
    if (await storeApiKey()) {
      await server.restart();
      void vscode.window.showInformationMessage("Attune: API key stored; the server was restarted to use it.");
    }
  });
  register("attune.clearApiKey", async () => {
    await context.secrets.delete(SECRET_KEY);
    await server.restart();
    void vscode.window.showInformationMessage("Attune: API key removed from secret storage.");
  });

  register("attune.resetAuth", async () => {
    let where = "the backups folder next to your strategy file";
    try {
      const status = await server.execute<Record<string, unknown>>("attune.server.authStatus");
      if (typeof status?.path === "string") where = path.join(path.dirname(status.path), "backups", "auth_strategy-<timestamp>.json");
    } catch (err) {
      fail("reading the strategy failed", err);
      return;
    }
    const pick = await vscode.window.showWarningMessage(
      "Reset your Attune authentication strategy to the defaults?",
      { modal: true, detail: `The current strategy is backed up first, to ${where}.` },
      "Reset",
    );
    if (pick !== "Reset") return;
    let result: Record<string, unknown>;
    try {
      result = await server.execute<Record<string, unknown>>("attune.server.resetAuth", { confirm: true });
    } catch (err) {
      fail("reset failed", err);
      return;
    }
    const backup = typeof result?.backup === "string" ? result.backup : undefined;
    const undo = await vscode.window.showInformationMessage(
      backup ? `Attune: strategy reset. Backup: ${backup}` : "Attune: strategy reset (there was nothing to back up).",
      ...(backup ? ["Undo"] : []),
    );
    if (undo === "Undo" && backup) {
      try {
        await server.execute("attune.server.restoreAuth", { backup });
        void vscode.window.showInformationMessage(`Attune: strategy restored from ${backup}.`);
      } catch (err) {
        fail("restore failed", err);
      }
    }
  });

  register("attune.showAuthStatus", async () => {
    try {
      await views.show("Attune Auth Status", renderAuthStatus(await server.execute("attune.server.authStatus")));
    } catch (err) {
      fail("reading the status failed", err);
    }
  });

  const showDetails = async (args?: unknown) => {
    const uri = (args && typeof args === "object" && typeof (args as any).uri === "string" ? (args as any).uri : undefined) ?? activeFileUri()?.toString();
    if (!uri) {
      void vscode.window.showInformationMessage("Attune: open a file first.");
      return;
    }
    try {
      const details = await server.execute("attune.server.showDetails", { ...(args as object), uri });
      const name = path.basename(vscode.Uri.parse(uri).path);
      await views.show(`Attune — ${name}`, renderDetails(details, name));
    } catch (err) {
      fail("showing the details failed", err);
    }
  };
  register("attune.showDetails", showDetails);

  register("attune.recommend", async () => {
    const uri = activeFileUri();
    if (!uri) {
      void vscode.window.showInformationMessage("Attune: open a file to get a recommendation for it.");
      return;
    }
    try {
      const r = await server.execute<Record<string, unknown>>("attune.server.recommend", { uri: uri.toString() });
      const pick = await vscode.window.showInformationMessage(
        `Attune: ${path.basename(uri.fsPath)} → ${modeLabel(String(r?.mode))}. ${String(r?.reason ?? "")}`,
        "Details",
      );
      if (pick === "Details") await showDetails({ uri: uri.toString() });
    } catch (err) {
      fail("the recommendation failed", err);
    }
  });

  const breakerPick = async (placeHolder: string) => {
    try {
      const fresh = parseBreakerPayload(await server.execute("attune.server.breakerStatus"));
      if (fresh) {
        breakers = fresh;
        render();
      }
    } catch (err) {
      output.warn(`breakerStatus: ${String(err)}`);
    }
    const pick = await vscode.window.showQuickPick<BreakerPickItem>(breakerPickItems(breakers, new Date()), {
      title: "Attune: circuit breakers",
      placeHolder,
    });
    if (!pick) return;
    try {
      await server.execute("attune.server.resetBreaker", pick.provider ? { provider: pick.provider, tier: pick.tier } : {});
      void vscode.window.showInformationMessage(`Attune: reset ${pick.provider ? describeKey(`${pick.provider}:${pick.tier ?? ""}`) : "every breaker"}.`);
    } catch (err) {
      fail("resetting the breaker failed", err);
    }
  };
  register("attune.showBreakerStatus", () => breakerPick("Every provider and tier; pick one to reset it"));
  register("attune.resetBreaker", () => breakerPick("Reset which circuit breaker?"));

  register("attune.restartServer", async () => {
    await server.restart();
  });
  register("attune.showLogs", () => output.show());
  register("attune.selectInterpreter", async () => {
    if (vscode.extensions.getExtension("ms-python.python")) {
      await vscode.commands.executeCommand("python.setInterpreter");
      return;
    }
    const picked = await vscode.window.showOpenDialog({ canSelectMany: false, title: `Python ${MIN_PYTHON_TEXT}+ interpreter for Attune` });
    if (picked?.[0]) {
      await vscode.workspace.getConfiguration("attune").update("interpreter", picked[0].fsPath, vscode.ConfigurationTarget.Global);
    }
  });

  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration("attune")) output.info("Attune settings changed");
      // Lens settings reach the running server through didChangeConfiguration;
      // only the interpreter needs a new process.
      if (RESTART_SETTINGS.some((s) => e.affectsConfiguration(s))) void server.restart();
      else if (e.affectsConfiguration("attune.lens")) void server.sendSettings();
    }),
  );

  // Not awaited: activation stays quick; commands wait for the start themselves.
  void server.start();

  // Follow the Python extension's interpreter when attune.interpreter is not set.
  const api = await pythonExtensionApi();
  const changed = api?.environments?.onDidChangeActiveEnvironmentPath;
  if (changed) {
    context.subscriptions.push(
      changed(() => {
        if (!vscode.workspace.getConfiguration("attune").get<string>("interpreter")) void server.restart();
      }),
    );
  }
}

export function deactivate(): void {
  /* subscriptions dispose the client */
}
