// The extension's settings: what the server receives as initializationOptions /
// didChangeConfiguration (section "attune": the lens settings, with the documented
// defaults), which settings need a new server process, and the readers of the rest.
import * as vscode from "vscode";
import { CONFIG_SECTION, fullSettingName, SettingKeys } from "./constants";

export interface LensSettings {
  enabled: boolean;
  debounceMs: number;
  maxFileSizeMB: number;
  show: Array<"size" | "mode" | "cost">;
}

export interface ServerSettings {
  lens: LensSettings;
  /** The extension renders showDetails' answer itself, so the server's own pop-up is off. */
  details: { showMessage: boolean };
}

export const DEFAULT_LENS: LensSettings = { enabled: true, debounceMs: 300, maxFileSizeMB: 5, show: ["size", "mode", "cost"] };

type Getter = <T>(key: string) => T | undefined;

const LENS_KINDS: readonly string[] = ["size", "mode", "cost"];

/** Reads `attune.lens.*` through `get` (WorkspaceConfiguration.get in the extension). */
export function serverSettings(get: Getter): ServerSettings {
  const num = (key: string, fallback: number) => {
    const v = get<number>(key);
    return typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : fallback;
  };
  const show = get<string[]>(SettingKeys.lensShow);
  const valid = Array.isArray(show) ? show.filter((s): s is "size" | "mode" | "cost" => LENS_KINDS.includes(s)) : undefined;
  return {
    lens: {
      enabled: get<boolean>(SettingKeys.lensEnabled) !== false,
      debounceMs: num(SettingKeys.lensDebounceMs, DEFAULT_LENS.debounceMs),
      maxFileSizeMB: num(SettingKeys.lensMaxFileSizeMB, DEFAULT_LENS.maxFileSizeMB),
      show: valid ?? [...DEFAULT_LENS.show],
    },
    details: { showMessage: false },
  };
}

/** Settings whose change needs a new server process (the rest are sent live). */
export const RESTART_SETTINGS = [fullSettingName(SettingKeys.interpreter)];

function config(): vscode.WorkspaceConfiguration {
  return vscode.workspace.getConfiguration(CONFIG_SECTION);
}

/** The lens settings as they are now, for the server. */
export function currentServerSettings(): ServerSettings {
  const c = config();
  return serverSettings((key) => c.get(key));
}

/** `attune.interpreter` as written (empty or undefined: not set). */
export function interpreterSetting(): string | undefined {
  return config().get<string>(SettingKeys.interpreter);
}

export async function setInterpreterSetting(path: string): Promise<void> {
  await config().update(SettingKeys.interpreter, path, vscode.ConfigurationTarget.Global);
}

/** `attune.showNotifications` (a warning when a breaker opens); on unless set to false. */
export function notificationsEnabled(): boolean {
  return config().get<boolean>(SettingKeys.showNotifications) !== false;
}
