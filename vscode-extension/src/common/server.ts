// The language client: starts the bundled server on the chosen interpreter, keeps
// one output channel, reports health in a language status item, and never
// restarts in a loop (3 crashes in 3 minutes and it stays stopped).
import { readFileSync } from "node:fs";
import * as path from "node:path";
import * as vscode from "vscode";
import {
  CloseAction,
  DidChangeConfigurationNotification,
  ErrorAction,
  LanguageClient,
  RevealOutputChannelOn,
  State,
  type CloseHandlerResult,
  type ErrorHandler,
  type ErrorHandlerResult,
  type LanguageClientOptions,
  type ServerOptions,
} from "vscode-languageclient/node";
import { checkInterpreter, findInterpreter, hasInstalledServer } from "./interpreter";
import { launchPlan, serverSettings } from "./settings";

export const SECRET_KEY = "attune.anthropicApiKey";
const MAX_RESTARTS = 3;
const RESTART_WINDOW_MS = 3 * 60 * 1000;

export type Health = "starting" | "running" | "stopped" | "crashed" | "no interpreter";

export interface ServerHooks {
  onNotification(client: LanguageClient): void;
  /** Rewrites lens commands from the server to client commands (lens click -> details view). */
  middleware: LanguageClientOptions["middleware"];
}

export class AttuneServer implements vscode.Disposable {
  client: LanguageClient | undefined;
  private starting: Promise<void> | undefined;
  private crashes: number[] = [];
  private readonly status: vscode.LanguageStatusItem;
  private readonly healthEmitter = new vscode.EventEmitter<Health>();
  readonly onHealth = this.healthEmitter.event;
  health: Health = "stopped";

  constructor(
    private readonly context: vscode.ExtensionContext,
    readonly output: vscode.LogOutputChannel,
    private readonly hooks: ServerHooks,
  ) {
    this.status = vscode.languages.createLanguageStatusItem("attune.server", { pattern: "**" });
    this.status.name = "Attune";
    this.setHealth("stopped");
  }

  private setHealth(health: Health, detail?: string): void {
    this.health = health;
    const s = this.status;
    s.busy = health === "starting";
    s.severity =
      health === "crashed" || health === "no interpreter"
        ? vscode.LanguageStatusSeverity.Error
        : vscode.LanguageStatusSeverity.Information;
    const texts: Record<Health, string> = {
      starting: "Attune: starting",
      running: "Attune: running",
      stopped: "Attune: stopped",
      crashed: "Attune: crashed",
      "no interpreter": "Attune: select a Python interpreter",
    };
    s.text = texts[health];
    s.detail = detail;
    s.command =
      health === "no interpreter"
        ? { title: "Select Interpreter", command: "attune.selectInterpreter" }
        : health === "crashed"
          ? { title: "Show Logs", command: "attune.showLogs" }
          : { title: "Restart", command: "attune.restartServer" };
    this.healthEmitter.fire(health);
  }

  async start(): Promise<void> {
    if (this.starting) return this.starting;
    this.starting = this.doStart().finally(() => (this.starting = undefined));
    return this.starting;
  }

  private async doStart(): Promise<void> {
    this.setHealth("starting");
    const interpreter = await findInterpreter((m) => this.output.warn(m));
    const check = await checkInterpreter(interpreter);
    if (!check.ok) {
      this.output.error(check.problem);
      this.setHealth("no interpreter", check.problem);
      void vscode.window.showErrorMessage(`Attune: ${check.problem}`, "Select Interpreter", "Show Logs").then((pick) => {
        if (pick === "Select Interpreter") void vscode.commands.executeCommand("attune.selectInterpreter");
        if (pick === "Show Logs") this.output.show();
      });
      return;
    }
    const bundle = this.bundleManifest();
    const plan = launchPlan(
      check.parsed,
      bundle?.pythons,
      bundle?.pythons.includes(check.parsed.slice(0, 2).join(".")) ? false : await hasInstalledServer(interpreter),
      bundle?.platform ?? process.platform,
    );
    if (plan.kind === "error") {
      this.output.error(plan.problem);
      this.setHealth("no interpreter", plan.problem);
      void vscode.window.showErrorMessage(`Attune: ${plan.problem}`, "Select Interpreter", "Show Logs").then((pick) => {
        if (pick === "Select Interpreter") void vscode.commands.executeCommand("attune.selectInterpreter");
        if (pick === "Show Logs") this.output.show();
      });
      return;
    }
    this.output.info(
      `Starting the Attune server with Python ${check.version}: ${interpreter.command} (${interpreter.source}), ` +
        (plan.kind === "bundled" ? "bundled libraries" : "the interpreter's own attune-companion"),
    );

    const env: NodeJS.ProcessEnv = { ...process.env, PYTHONUNBUFFERED: "1", PYTHONDONTWRITEBYTECODE: "1" };
    if (plan.kind === "installed") env.ATTUNE_LSP_USE_INSTALLED = "1";
    const key = await this.context.secrets.get(SECRET_KEY);
    if (key) env.ANTHROPIC_API_KEY = key; // through the environment only; never logged

    const launch = this.context.asAbsolutePath(path.join("bundled", "tool", "launch.py"));
    const serverOptions: ServerOptions = {
      command: interpreter.command,
      args: [launch],
      options: { env, cwd: vscode.workspace.workspaceFolders?.[0]?.uri.fsPath },
    };
    const config = vscode.workspace.getConfiguration("attune");
    const clientOptions: LanguageClientOptions = {
      documentSelector: [{ scheme: "file" }, { scheme: "untitled" }],
      outputChannel: this.output,
      traceOutputChannel: this.output,
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      initializationOptions: serverSettings((k) => config.get(k)),
      errorHandler: this.errorHandler(),
      middleware: this.hooks.middleware,
    };
    const client = new LanguageClient("attune", "Attune", serverOptions, clientOptions);
    client.onDidChangeState((e) => {
      if (e.newState === State.Running) this.setHealth("running", `Python ${check.version} · ${interpreter.command}`);
      else if (e.newState === State.Stopped && this.health !== "crashed") this.setHealth("stopped");
    });
    this.client = client;
    // Before start: the server sends attune/breakerStatus right after `initialized`.
    this.hooks.onNotification(client);
    try {
      await client.start();
    } catch (err) {
      this.output.error(`The Attune server did not start: ${String(err)}`);
      this.setHealth("crashed", String(err));
      void vscode.window.showErrorMessage("Attune: the language server did not start.", "Show Logs").then((pick) => {
        if (pick === "Show Logs") this.output.show();
      });
    }
  }

  /** bundled/libs/attune_bundle.json, written by npm run package; undefined in a dev checkout. */
  private bundleManifest(): { pythons: string[]; platform: string } | undefined {
    try {
      const raw = JSON.parse(readFileSync(this.context.asAbsolutePath(path.join("bundled", "libs", "attune_bundle.json")), "utf8"));
      return Array.isArray(raw?.pythons) ? { pythons: raw.pythons.map(String), platform: String(raw.platform ?? "") } : undefined;
    } catch {
      return undefined;
    }
  }

  private errorHandler(): ErrorHandler {
    return {
      error: (): ErrorHandlerResult => ({ action: ErrorAction.Continue }),
      closed: (): CloseHandlerResult => {
        const now = Date.now();
        this.crashes = this.crashes.filter((t) => now - t < RESTART_WINDOW_MS);
        this.crashes.push(now);
        if (this.crashes.length <= MAX_RESTARTS) {
          this.output.warn(`The Attune server stopped unexpectedly; restarting (${this.crashes.length}/${MAX_RESTARTS}).`);
          return { action: CloseAction.Restart, handled: true };
        }
        this.setHealth("crashed", "It stopped 4 times in 3 minutes and was not restarted.");
        void vscode.window
          .showErrorMessage("Attune: the language server keeps stopping, so it was not restarted.", "Show Logs", "Restart Server")
          .then((pick) => {
            if (pick === "Show Logs") this.output.show();
            if (pick === "Restart Server") void vscode.commands.executeCommand("attune.restartServer");
          });
        return { action: CloseAction.DoNotRestart, handled: true };
      },
    };
  }

  /** Sends the lens settings to the running server (no restart needed). */
  async sendSettings(): Promise<void> {
    const client = this.client;
    if (!client?.isRunning()) return;
    const config = vscode.workspace.getConfiguration("attune");
    await client.sendNotification(DidChangeConfigurationNotification.type, {
      settings: { attune: serverSettings((k) => config.get(k)) },
    });
  }

  async stop(): Promise<void> {
    await this.starting?.catch(() => undefined);
    const client = this.client;
    this.client = undefined;
    if (client) {
      try {
        await client.stop(5000);
      } catch (err) {
        this.output.warn(`Stopping the Attune server: ${String(err)}`);
      }
    }
    this.setHealth("stopped");
  }

  async restart(): Promise<void> {
    this.crashes = [];
    await this.stop();
    await this.start();
  }

  /** Runs a server command; errors become a message naming the command, not a crash. */
  async execute<T = unknown>(command: string, args?: Record<string, unknown>): Promise<T> {
    if (this.starting) await this.starting;
    const client = this.client;
    if (!client || !client.isRunning()) {
      throw new Error(
        this.health === "no interpreter"
          ? "no Python interpreter: select one with “Attune: Select Interpreter”"
          : "the language server is not running (see “Attune: Show Logs”)",
      );
    }
    return (await client.sendRequest("workspace/executeCommand", {
      command,
      arguments: args === undefined ? [] : [args],
    })) as T;
  }

  dispose(): void {
    void this.stop();
    this.status.dispose();
    this.healthEmitter.dispose();
  }
}
