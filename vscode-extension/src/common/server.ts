// The language client: starts the bundled server on the chosen interpreter, keeps
// one output channel, reports health in a language status item, and never
// restarts in a loop (3 crashes in 3 minutes and it stays stopped). Its code lens
// provider is registered at activation, before the server is up (see lensProvider).
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import * as vscode from "vscode";
import {
  CloseAction,
  CodeLensRefreshRequest,
  CodeLensRequest,
  DidChangeConfigurationNotification,
  ErrorAction,
  LanguageClient,
  RevealOutputChannelOn,
  State,
  type CloseHandlerResult,
  type DynamicFeature,
  type ErrorHandler,
  type ErrorHandlerResult,
  type LanguageClientOptions,
  type ServerOptions,
  type StaticFeature,
} from "vscode-languageclient/node";
import {
  BUNDLE_MANIFEST_PATH,
  CLIENT_ID,
  Commands,
  CONFIG_SECTION,
  DISPLAY_NAME,
  ENV_API_KEY,
  ENV_USE_INSTALLED,
  LANGUAGE_STATUS_ID,
  LAUNCHER_PATH,
  SECRET_API_KEY,
  ServerCommands,
} from "./constants";
import { serverCwd, serverEnvironment, type HeadStart } from "./headStart";
import { checkInterpreter, findInterpreter, hasInstalledServer, launchPlan } from "./python";
import { currentServerSettings } from "./settings";

const MAX_RESTARTS = 3;
const RESTART_WINDOW_MS = 3 * 60 * 1000;
const FIRST_LENS_REQUESTS_LOGGED = 3;

export type Health = "starting" | "running" | "stopped" | "crashed" | "no interpreter";

/** Lens clicks run the client's showDetails (a details view), not the server's command. */
function clientLens(lens: vscode.CodeLens): vscode.CodeLens {
  if (lens.command?.command === ServerCommands.showDetails) {
    lens.command = { ...lens.command, command: Commands.showDetails };
  }
  return lens;
}

const DOCUMENT_SELECTOR = [{ scheme: "file" }, { scheme: "untitled" }];

/**
 * A language client without its own code lens provider: the client would register
 * one only after the server's `initialize` answer, and VS Code waits its lens
 * debounce (about half a second at start-up) after a provider appears before asking
 * it. AttuneServer's provider, registered at activation, asks this client instead.
 */
class LensDelegatingClient extends LanguageClient {
  override registerFeature(feature: StaticFeature | DynamicFeature<unknown>): void {
    if ("registrationType" in feature && feature.registrationType.method === CodeLensRequest.method) return;
    super.registerFeature(feature);
  }
}

/** What the client's own code lens feature would tell the server it supports. */
const lensCapabilities: StaticFeature = {
  fillClientCapabilities(capabilities) {
    capabilities.textDocument = { ...capabilities.textDocument, codeLens: { dynamicRegistration: false } };
    capabilities.workspace = { ...capabilities.workspace, codeLens: { refreshSupport: true } };
  },
  initialize: () => undefined,
  getState: () => ({ kind: "static" }),
  clear: () => undefined,
};

export class AttuneServer implements vscode.Disposable {
  client: LanguageClient | undefined;
  /** The server process when the client was handed it (the head start), not spawned by it. */
  private process: ChildProcess | undefined;
  private starting: Promise<void> | undefined;
  private crashes: number[] = [];
  private readonly status: vscode.LanguageStatusItem;
  private readonly healthEmitter = new vscode.EventEmitter<Health>();
  private readonly lensChanges = new vscode.EventEmitter<void>();
  /** A lens request was answered with none because no server was running. */
  private lensesMissed = false;
  private lensRequestsLogged = 0;
  private readonly lensProvider: vscode.Disposable;
  private readonly created = Date.now();
  private readonly notificationHandlers: Array<[string, (params: unknown) => void]> = [];
  readonly onHealth = this.healthEmitter.event;
  health: Health = "stopped";

  constructor(
    private readonly context: vscode.ExtensionContext,
    readonly output: vscode.LogOutputChannel,
    /** The server the bundle spawned before `activate` (headStart.ts), adopted by the first start. */
    private headStart?: HeadStart,
  ) {
    this.status = vscode.languages.createLanguageStatusItem(LANGUAGE_STATUS_ID, { pattern: "**" });
    this.status.name = DISPLAY_NAME;
    this.setHealth("stopped");
    // Registered now, so VS Code's lens debounce runs while the server starts; a
    // request made meanwhile waits for the start.
    this.lensProvider = vscode.languages.registerCodeLensProvider(DOCUMENT_SELECTOR, {
      onDidChangeCodeLenses: this.lensChanges.event,
      provideCodeLenses: (doc, token) => this.provideCodeLenses(doc, token),
    });
  }

  private async provideCodeLenses(doc: vscode.TextDocument, token: vscode.CancellationToken): Promise<vscode.CodeLens[]> {
    const asked = Date.now();
    if (this.starting) await this.starting.catch(() => undefined); // a failed start answers no lenses below
    const client = this.client;
    if (!client?.isRunning() || token.isCancellationRequested) {
      if (!token.isCancellationRequested) this.lensesMissed = true;
      this.logFirstLenses(asked, token.isCancellationRequested ? "cancelled by VS Code" : "no server");
      return [];
    }
    try {
      const sent = Date.now();
      const result = await client.sendRequest(CodeLensRequest.type, client.code2ProtocolConverter.asCodeLensParams(doc), token);
      this.logFirstLenses(
        asked,
        token.isCancellationRequested ? "cancelled by VS Code" : `answered by the server in ${Date.now() - sent} ms`,
      );
      if (token.isCancellationRequested || !result) return [];
      // Converted here rather than by the client's converter, which drops a command's
      // tooltip (LSP 3.18's Command.tooltip, which the server sends).
      return result.map(({ range, command }) => {
        const tooltip = (command as { tooltip?: unknown } | undefined)?.tooltip;
        return clientLens(
          new vscode.CodeLens(
            client.protocol2CodeConverter.asRange(range),
            command && {
              title: command.title,
              command: command.command,
              arguments: command.arguments,
              ...(typeof tooltip === "string" ? { tooltip } : {}),
            },
          ),
        );
      });
    } catch (err) {
      return client.handleFailedRequest(CodeLensRequest.type, token, err, []);
    }
  }

  /** The first few lens requests' times, in the log: where a cold start's first lens went. */
  private logFirstLenses(asked: number, outcome: string): void {
    if (this.lensRequestsLogged >= FIRST_LENS_REQUESTS_LOGGED) return;
    this.lensRequestsLogged++;
    this.output.info(
      `Lens request ${this.lensRequestsLogged}: asked ${asked - this.created} ms after activation, ` +
        `${outcome} ${Date.now() - asked} ms after it was asked.`,
    );
  }

  /** Handles a server notification on every client this server starts (before its start). */
  onNotification(method: string, handler: (params: unknown) => void): void {
    this.notificationHandlers.push([method, handler]);
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
        ? { title: "Select Interpreter", command: Commands.selectInterpreter }
        : health === "crashed"
          ? { title: "Show Logs", command: Commands.showLogs }
          : { title: "Restart", command: Commands.restartServer };
    this.healthEmitter.fire(health);
  }

  async start(): Promise<void> {
    if (this.starting) return this.starting;
    this.starting = this.doStart().finally(() => (this.starting = undefined));
    return this.starting;
  }

  /** No usable interpreter: log, error state, and a message with the two ways out. */
  private noInterpreter(problem: string): void {
    this.output.error(problem);
    this.setHealth("no interpreter", problem);
    void vscode.window.showErrorMessage(`Attune: ${problem}`, "Select Interpreter", "Show Logs").then((pick) => {
      if (pick === "Select Interpreter") void vscode.commands.executeCommand(Commands.selectInterpreter);
      if (pick === "Show Logs") this.output.show();
    });
  }

  private async doStart(): Promise<void> {
    this.setHealth("starting");
    const t0 = Date.now();
    const head = this.headStart;
    this.headStart = undefined;
    // Read while the interpreter is checked (a round trip to the workbench in a remote window).
    let keyMs = 0;
    const keyRead = Promise.resolve(this.context.secrets.get(SECRET_API_KEY))
      .catch((err: unknown) => {
        this.output.warn(`The stored API key could not be read: ${String(err)}`);
        return undefined;
      })
      .finally(() => (keyMs = Date.now() - t0));
    const interpreter = head?.interpreter ?? (await findInterpreter((m) => this.output.warn(m)));
    const check = await (head?.check ?? checkInterpreter(interpreter));
    const checkedMs = Date.now() - t0;
    if (!check.ok) {
      head?.discard();
      this.noInterpreter(check.problem);
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
      head?.discard();
      this.noInterpreter(plan.problem);
      return;
    }
    const key = await keyRead;
    // The head start runs the bundle: it is used when that is the plan, else stopped.
    const adopted = plan.kind === "bundled" ? head?.adopt(key) : undefined;
    head?.discard();
    const spawnedMs = adopted && head ? `spawned ${this.created - head.spawnedAt} ms before activation, ` : "";
    this.output.info(
      `Starting the Attune server with Python ${check.version}: ${interpreter.command} (${interpreter.source}), ` +
        (plan.kind === "bundled" ? "bundled libraries" : "the interpreter's own attune-companion") +
        ` (${spawnedMs}${t0 - this.created} ms after activation: interpreter found and checked in ${checkedMs} ms, ` +
        `stored API key looked up in ${keyMs} ms)`,
    );

    // The .vsix ships the byte-code of most of what the server imports up to its first
    // lens (scripts/compile_start_path.py); Python writes the rest next to its source at
    // the first start (where the extension's folder is writable), as it does for any
    // package.
    const env = serverEnvironment();
    if (plan.kind === "installed") env[ENV_USE_INSTALLED] = "1";
    if (key) env[ENV_API_KEY] = key; // through the environment only; never logged

    const executable = {
      command: interpreter.command,
      args: [this.context.asAbsolutePath(path.join(...LAUNCHER_PATH))],
      options: { env, cwd: serverCwd() },
    };
    // A restart after a crash spawns anew: the head start serves the first start only.
    let headProcess = adopted;
    const serverOptions: ServerOptions = adopted
      ? () => {
          const child = headProcess ?? spawn(executable.command, executable.args, { ...executable.options, windowsHide: true });
          headProcess = undefined;
          this.process = child;
          return Promise.resolve(child);
        }
      : executable;
    const clientOptions: LanguageClientOptions = {
      documentSelector: DOCUMENT_SELECTOR,
      outputChannel: this.output,
      traceOutputChannel: this.output,
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      initializationOptions: currentServerSettings(),
      errorHandler: this.errorHandler(),
    };
    const client = new LensDelegatingClient(CLIENT_ID, DISPLAY_NAME, serverOptions, clientOptions);
    client.registerFeature(lensCapabilities);
    client.onRequest(CodeLensRefreshRequest.type, () => this.lensChanges.fire());
    const spawned = Date.now();
    client.onDidChangeState((e) => {
      // Lenses of a server that stopped go. A server that is up (again) is asked for
      // them only if a request was answered with none meanwhile: a change event makes
      // VS Code drop a request waiting for the start and restart its lens debounce,
      // which would put off the request it is about to make for a file just opened.
      if (e.newState === State.Stopped) this.lensChanges.fire();
      else if (e.newState === State.Running && this.lensesMissed) {
        this.lensesMissed = false;
        this.lensChanges.fire();
      }
      if (e.newState === State.Running) {
        this.output.info(`The Attune server is running (started and initialized in ${Date.now() - spawned} ms).`);
        this.setHealth("running", `Python ${check.version} · ${interpreter.command}`);
      }
      else if (e.newState === State.Stopped && this.health !== "crashed") this.setHealth("stopped");
    });
    this.client = client;
    // Before start: the server sends attune/breakerStatus right after `initialized`.
    for (const [method, handler] of this.notificationHandlers) client.onNotification(method, handler);
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
      const raw = JSON.parse(readFileSync(this.context.asAbsolutePath(path.join(...BUNDLE_MANIFEST_PATH)), "utf8")) as unknown;
      if (!raw || typeof raw !== "object") return undefined;
      const { pythons, platform } = raw as { pythons?: unknown; platform?: unknown };
      return Array.isArray(pythons) ? { pythons: pythons.map(String), platform: typeof platform === "string" ? platform : "" } : undefined;
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
            if (pick === "Restart Server") void vscode.commands.executeCommand(Commands.restartServer);
          });
        return { action: CloseAction.DoNotRestart, handled: true };
      },
    };
  }

  /** Sends the lens settings to the running server (no restart needed). */
  async sendSettings(): Promise<void> {
    const client = this.client;
    if (!client?.isRunning()) return;
    await client.sendNotification(DidChangeConfigurationNotification.type, {
      settings: { [CONFIG_SECTION]: currentServerSettings() },
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
    // The client ends the processes it spawned; one it was handed is ended here if
    // `exit` did not end it.
    const child = this.process;
    this.process = undefined;
    if (child && child.exitCode === null && child.signalCode === null) child.kill();
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
    if (!client?.isRunning()) {
      throw new Error(
        this.health === "no interpreter"
          ? "no Python interpreter: select one with “Attune: Select Interpreter”"
          : "the language server is not running (see “Attune: Show Logs”)",
      );
    }
    return client.sendRequest<T>("workspace/executeCommand", {
      command,
      arguments: args === undefined ? [] : [args],
    });
  }

  dispose(): void {
    void this.stop();
    this.lensProvider.dispose();
    this.lensChanges.dispose();
    this.status.dispose();
    this.healthEmitter.dispose();
  }
}
