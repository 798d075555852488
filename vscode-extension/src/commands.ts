// The palette commands (and the two internal ones: a lens click's details view and
// Select Interpreter). Rules live in the server (and the core behind it); these
// handlers ask it, show QuickPicks, messages and views, and report failures once.
import * as path from "node:path";
import * as vscode from "vscode";
import { breakerPickItems, describeKey, parseBreakerPayload, type BreakerPayload, type BreakerPickItem } from "./breakerItem";
import { Commands, PYTHON_SELECT_INTERPRETER, SECRET_API_KEY, ServerCommands } from "./common/constants";
import { asText } from "./common/format";
import { hasPythonExtension, MIN_PYTHON_TEXT } from "./common/python";
import { setInterpreterSetting } from "./common/settings";
import { renderAuthStatus, renderDetails } from "./views";
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
  type ProsCons,
  type TierItem,
} from "./wizard";

/** What the handlers need of the language server (AttuneServer). */
export interface ServerApi {
  execute<T = unknown>(command: string, args?: Record<string, unknown>): Promise<T>;
  restart(): Promise<void>;
}

export interface CommandDeps {
  secrets: vscode.SecretStorage;
  output: Pick<vscode.LogOutputChannel, "error" | "warn" | "show">;
  server: ServerApi;
  views: { show(name: string, markdown: string): Promise<void> };
  breakers: { readonly current: BreakerPayload | undefined; update(payload: BreakerPayload): void };
}

type Dict = Record<string, unknown>;

/** The active editor's file (or untitled buffer), if any. */
function activeFileUri(): vscode.Uri | undefined {
  const doc = vscode.window.activeTextEditor?.document;
  return doc && (doc.uri.scheme === "file" || doc.uri.scheme === "untitled") ? doc.uri : undefined;
}

/** The `uri` of a lens command's argument object, if it has one. */
function uriArgument(args: unknown): string | undefined {
  if (!args || typeof args !== "object") return undefined;
  const uri = (args as Dict).uri;
  return typeof uri === "string" ? uri : undefined;
}

export class AttuneCommands {
  constructor(private readonly deps: CommandDeps) {}

  /** Every command id (client side) and its handler. */
  handlers(): Record<string, (...args: unknown[]) => unknown> {
    return {
      [Commands.setupAuth]: () => this.setupAuth(),
      [Commands.resetAuth]: () => this.resetAuth(),
      [Commands.showAuthStatus]: () => this.showAuthStatus(),
      [Commands.recommend]: () => this.recommend(),
      [Commands.showDetails]: (args?: unknown) => this.showDetails(args),
      [Commands.showBreakerStatus]: () => this.breakerPick("Every provider and tier; pick one to reset it"),
      [Commands.resetBreaker]: () => this.breakerPick("Reset which circuit breaker?"),
      [Commands.storeApiKey]: () => this.storeApiKeyCommand(),
      [Commands.clearApiKey]: () => this.clearApiKey(),
      [Commands.restartServer]: () => this.deps.server.restart(),
      [Commands.showLogs]: () => this.deps.output.show(),
      [Commands.selectInterpreter]: () => this.selectInterpreter(),
    };
  }

  /** Logs a failure and shows it once, with "Show Logs". */
  private fail(what: string, err: unknown): void {
    const msg = err instanceof Error ? err.message : String(err);
    this.deps.output.error(`${what}: ${msg}`);
    void vscode.window.showErrorMessage(`Attune: ${what}: ${msg}`, "Show Logs").then((p) => p && this.deps.output.show());
  }

  async setupAuth(): Promise<void> {
    const { server, output, secrets } = this.deps;
    let current: string | undefined;
    try {
      const status = await server.execute<Dict | undefined>(ServerCommands.authStatus);
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
    let prosCons: ProsCons | undefined;
    if (uri) {
      try {
        // Pros/cons and Auto's recommendation for the plan just picked, not the saved one.
        prosCons = findProsCons(await server.execute(ServerCommands.showDetails, detailsArguments(uri.toString(), tier.value)));
      } catch (err) {
        output.warn(`No per-file pros/cons for the wizard: ${String(err)}`);
      }
    }
    const mode = await vscode.window.showQuickPick<ModeItem>(modeItems(prosCons, uri ? path.basename(uri.fsPath) : undefined, tier.value), {
      title: `Attune: Set Up Authentication (2/2) · ${tier.label}`,
      placeHolder: uri ? `How should files run? Estimates are for ${path.basename(uri.fsPath)}.` : "How should files run?",
      matchOnDetail: false,
      ignoreFocusOut: true,
    });
    if (!mode) return;
    let storedKey = false;
    if (mayUseApi(mode.value) && !(await secrets.get(SECRET_API_KEY))) {
      const offer = await vscode.window.showQuickPick(apiKeyOfferItems(), {
        title: "Attune: this choice may use the Anthropic API",
        placeHolder: "Store an API key now? (optional)",
        ignoreFocusOut: true,
      });
      if (offer?.store) storedKey = await this.storeApiKey();
    }
    try {
      await server.execute(ServerCommands.setupAuth, setupArguments(tier.value, mode.value));
    } catch (err) {
      this.fail("saving the strategy failed", err);
      return;
    }
    if (storedKey) await server.restart(); // the server reads the key from its environment
    void vscode.window.showInformationMessage(`Attune: strategy saved — ${tierLabel(tier.value)} · ${modeLabel(mode.value)}.`);
  }

  /** Asks for the key and keeps it in SecretStorage; false when skipped. */
  private async storeApiKey(): Promise<boolean> {
    const key = await vscode.window.showInputBox({
      title: "Attune: Anthropic API key",
      prompt: "Kept in VS Code's secret storage; the Attune server gets it through its environment.",
      password: true,
      ignoreFocusOut: true,
      validateInput: (v) => (v.trim() ? undefined : "Paste a key, or press Escape to skip."),
    });
    if (!key?.trim()) return false;
    await this.deps.secrets.store(SECRET_API_KEY, key.trim());
    return true;
  }

  async storeApiKeyCommand(): Promise<void> {
    if (await this.storeApiKey()) {
      await this.deps.server.restart();
      void vscode.window.showInformationMessage("Attune: API key stored; the server was restarted to use it.");
    }
  }

  async clearApiKey(): Promise<void> {
    await this.deps.secrets.delete(SECRET_API_KEY);
    await this.deps.server.restart();
    void vscode.window.showInformationMessage("Attune: API key removed from secret storage.");
  }

  async resetAuth(): Promise<void> {
    const { server } = this.deps;
    let where = "the backups folder next to your strategy file";
    try {
      const status = await server.execute<Dict | undefined>(ServerCommands.authStatus);
      if (typeof status?.path === "string") where = path.join(path.dirname(status.path), "backups", "auth_strategy-<timestamp>.json");
    } catch (err) {
      this.fail("reading the strategy failed", err);
      return;
    }
    const pick = await vscode.window.showWarningMessage(
      "Reset your Attune authentication strategy to the defaults?",
      { modal: true, detail: `The current strategy is backed up first, to ${where}.` },
      "Reset",
    );
    if (pick !== "Reset") return;
    let result: Dict | undefined;
    try {
      result = await server.execute<Dict | undefined>(ServerCommands.resetAuth, { confirm: true });
    } catch (err) {
      this.fail("reset failed", err);
      return;
    }
    const backup = typeof result?.backup === "string" ? result.backup : undefined;
    const undo = await vscode.window.showInformationMessage(
      backup ? `Attune: strategy reset. Backup: ${backup}` : "Attune: strategy reset (there was nothing to back up).",
      ...(backup ? ["Undo"] : []),
    );
    if (undo === "Undo" && backup) {
      try {
        await server.execute(ServerCommands.restoreAuth, { backup });
        void vscode.window.showInformationMessage(`Attune: strategy restored from ${backup}.`);
      } catch (err) {
        this.fail("restore failed", err);
      }
    }
  }

  async showAuthStatus(): Promise<void> {
    try {
      await this.deps.views.show("Attune Auth Status", renderAuthStatus(await this.deps.server.execute(ServerCommands.authStatus)));
    } catch (err) {
      this.fail("reading the status failed", err);
    }
  }

  /** A lens click (its argument object has the file's uri) or the active file. */
  async showDetails(args?: unknown): Promise<void> {
    const uri = uriArgument(args) ?? activeFileUri()?.toString();
    if (!uri) {
      void vscode.window.showInformationMessage("Attune: open a file first.");
      return;
    }
    try {
      const extra = args && typeof args === "object" ? (args as Dict) : {};
      const details = await this.deps.server.execute(ServerCommands.showDetails, { ...extra, uri });
      const name = path.basename(vscode.Uri.parse(uri).path);
      await this.deps.views.show(`Attune — ${name}`, renderDetails(details, name));
    } catch (err) {
      this.fail("showing the details failed", err);
    }
  }

  async recommend(): Promise<void> {
    const uri = activeFileUri();
    if (!uri) {
      void vscode.window.showInformationMessage("Attune: open a file to get a recommendation for it.");
      return;
    }
    try {
      const r = await this.deps.server.execute<Dict | undefined>(ServerCommands.recommend, { uri: uri.toString() });
      const pick = await vscode.window.showInformationMessage(
        `Attune: ${path.basename(uri.fsPath)} → ${modeLabel(String(r?.mode))}. ${asText(r?.reason)}`,
        "Details",
      );
      if (pick === "Details") await this.showDetails({ uri: uri.toString() });
    } catch (err) {
      this.fail("the recommendation failed", err);
    }
  }

  /** The breaker QuickPick (fresh states from the server); picking one resets it. */
  async breakerPick(placeHolder: string): Promise<void> {
    const { server, output, breakers } = this.deps;
    try {
      const fresh = parseBreakerPayload(await server.execute(ServerCommands.breakerStatus));
      if (fresh) breakers.update(fresh);
    } catch (err) {
      output.warn(`breakerStatus: ${String(err)}`);
    }
    const pick = await vscode.window.showQuickPick<BreakerPickItem>(breakerPickItems(breakers.current, new Date()), {
      title: "Attune: circuit breakers",
      placeHolder,
    });
    if (!pick) return;
    try {
      await server.execute(ServerCommands.resetBreaker, pick.provider ? { provider: pick.provider, tier: pick.tier } : {});
      void vscode.window.showInformationMessage(`Attune: reset ${pick.provider ? describeKey(`${pick.provider}:${pick.tier ?? ""}`) : "every breaker"}.`);
    } catch (err) {
      this.fail("resetting the breaker failed", err);
    }
  }

  async selectInterpreter(): Promise<void> {
    if (hasPythonExtension()) {
      await vscode.commands.executeCommand(PYTHON_SELECT_INTERPRETER);
      return;
    }
    const picked = await vscode.window.showOpenDialog({ canSelectMany: false, title: `Python ${MIN_PYTHON_TEXT}+ interpreter for Attune` });
    if (picked?.[0]) await setInterpreterSetting(picked[0].fsPath);
  }
}

/** Registers every command; dispose the result to unregister them. */
export function registerCommands(deps: CommandDeps): vscode.Disposable[] {
  return Object.entries(new AttuneCommands(deps).handlers()).map(([id, handler]) => vscode.commands.registerCommand(id, handler));
}
