// Every name the extension shares with package.json, the language server or VS Code,
// in one place. No `vscode` import: unit tests check these against package.json and
// the server's sources.

export const EXTENSION_ID = "attune.attune-companion";
/** The output channel, the language client's name and the language status item's name. */
export const DISPLAY_NAME = "Attune";
/** The language client's id: VS Code reads `<id>.trace.server` for the LSP trace. */
export const CLIENT_ID = "attune";

/** Client commands: the palette's (package.json `contributes.commands`) and an internal one. */
export const Commands = {
  setupAuth: "attune.setupAuth",
  resetAuth: "attune.resetAuth",
  showAuthStatus: "attune.showAuthStatus",
  recommend: "attune.recommend",
  showBreakerStatus: "attune.showBreakerStatus",
  resetBreaker: "attune.resetBreaker",
  storeApiKey: "attune.storeApiKey",
  clearApiKey: "attune.clearApiKey",
  restartServer: "attune.restartServer",
  showLogs: "attune.showLogs",
  /** Also the language status item's and the interpreter errors' action. */
  selectInterpreter: "attune.selectInterpreter",
  /** Internal: what a lens click runs (the server's lenses carry ServerCommands.showDetails). */
  showDetails: "attune.showDetails",
  /** Also what the server's "Run…" lens carries, with `[{uri}]`. */
  runTask: "attune.runTask",
  openInClaudeCode: "attune.openInClaudeCode",
  showOverview: "attune.showOverview",
} as const;

/** Commands not in the palette (not contributed in package.json). */
export const INTERNAL_COMMANDS: readonly string[] = [Commands.showDetails];

/** The server's `workspace/executeCommand` commands (server/attune/lsp/server.py). */
export const ServerCommands = {
  setupAuth: "attune.server.setupAuth",
  resetAuth: "attune.server.resetAuth",
  restoreAuth: "attune.server.restoreAuth",
  authStatus: "attune.server.authStatus",
  recommend: "attune.server.recommend",
  showDetails: "attune.server.showDetails",
  breakerStatus: "attune.server.breakerStatus",
  resetBreaker: "attune.server.resetBreaker",
  previewTask: "attune.server.previewTask",
  runTask: "attune.server.runTask",
} as const;

/** The tasks a file can be run through (core/attune/models/pricing/task_defs/<task>.toml). */
export const TASK_NAMES = ["document", "review", "explain", "tests"] as const;

/** Notifications from the server. */
export const Notifications = {
  breakerStatus: "attune/breakerStatus",
  usage: "attune/usage",
  apiSpend: "attune/apiSpend",
  workspaceChanged: "attune/workspaceChanged",
} as const;

/** Requests to the server besides LSP's own and the commands. */
export const Requests = { workspaceSummary: "attune/workspaceSummary" } as const;

/** The configuration section; setting keys below are relative to it. */
export const CONFIG_SECTION = "attune";

export const SettingKeys = {
  interpreter: "interpreter",
  lensEnabled: "lens.enabled",
  lensDebounceMs: "lens.debounceMs",
  lensMaxFileSizeMB: "lens.maxFileSizeMB",
  lensShow: "lens.show",
  showNotifications: "showNotifications",
  traceServer: "trace.server",
} as const;

/** The group of the live lens settings (`attune.lens.*`). */
export const LENS_SETTINGS_GROUP = "lens";

/** "lens.show" -> "attune.lens.show" (for affectsConfiguration and messages). */
export function fullSettingName(key: string): string {
  return `${CONFIG_SECTION}.${key}`;
}

/** SecretStorage key of the Anthropic API key (never a setting, a file or a log). */
export const SECRET_API_KEY = "attune.anthropicApiKey";
/** The server's environment variable for the key. */
export const ENV_API_KEY = "ANTHROPIC_API_KEY";
/** Set for launch.py when the interpreter's own attune-companion must run, not the bundle. */
export const ENV_USE_INSTALLED = "ATTUNE_LSP_USE_INSTALLED";
/** Set for a server spawned before the key was known: its first stdin line is the key (or empty). */
export const ENV_KEY_ON_STDIN = "ATTUNE_LSP_KEY_ON_STDIN";
/** In VS Code's environment: no head start (headStart.ts), to measure the difference. */
export const ENV_NO_HEAD_START = "ATTUNE_LSP_NO_HEAD_START";

export const BREAKER_ITEM_ID = "attune.breakers";
export const USAGE_ITEM_ID = "attune.usage";
export const LANGUAGE_STATUS_ID = "attune.server";
/** URI scheme of the read-only Markdown views. */
export const VIEW_SCHEME = "attune-view";

/** Paths inside the extension. */
export const LAUNCHER_PATH = ["bundled", "tool", "launch.py"] as const;
export const BUNDLE_MANIFEST_PATH = ["bundled", "libs", "attune_bundle.json"] as const;

export const PYTHON_EXTENSION_ID = "ms-python.python";
export const PYTHON_SELECT_INTERPRETER = "python.setInterpreter";
