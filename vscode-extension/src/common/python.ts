// Which Python runs the server and whether it can: `attune.interpreter`, then the
// Python extension's active interpreter (when it is installed), then `python3` on
// PATH; its version (3.11 or newer); and whether it runs the bundled libraries or
// its own attune-companion.
import { execFile } from "node:child_process";
import * as vscode from "vscode";
import { PYTHON_EXTENSION_ID } from "./constants";
import { interpreterSetting } from "./settings";

export interface Interpreter {
  command: string;
  source: "setting" | "python extension" | "PATH";
}

export type PythonVersion = [number, number, number];

export type InterpreterCheck =
  | { ok: true; interpreter: Interpreter; version: string; parsed: PythonVersion }
  | { ok: false; interpreter: Interpreter; problem: string };

/** The oldest Python the server runs on (pyproject's requires-python): the line
 * counter's patterns use atomic groups and possessive quantifiers, new in 3.11's re. */
export const MIN_PYTHON: [number, number] = [3, 11];
export const MIN_PYTHON_TEXT = MIN_PYTHON.join(".");

/** Parses `python -c` output "3.11.2"; returns [major, minor, micro] or undefined. */
export function parsePythonVersion(output: string): PythonVersion | undefined {
  const m = /(\d+)\.(\d+)\.(\d+)/.exec(output);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

export function isSupportedPython(v: PythonVersion | undefined): v is PythonVersion {
  return !!v && (v[0] > MIN_PYTHON[0] || (v[0] === MIN_PYTHON[0] && v[1] >= MIN_PYTHON[1]));
}

/** The error shown for an interpreter older than MIN_PYTHON (or whose version is unreadable). */
export function tooOldProblem(version: PythonVersion | undefined, command: string): string {
  return `Python ${version ? version.join(".") : "(unknown version)"} at "${command}" is too old: Attune needs Python ${MIN_PYTHON_TEXT} or newer.`;
}

export type LaunchPlan = { kind: "bundled" } | { kind: "installed" } | { kind: "error"; problem: string };

/**
 * Whether the server runs from bundled/libs or from the interpreter's own
 * attune-companion. `bundlePythons`: the "major.minor" versions bundled/libs has
 * binaries for (bundled/libs/attune_bundle.json); undefined when there is no
 * bundle (a development checkout).
 */
export function launchPlan(
  version: PythonVersion,
  bundlePythons: string[] | undefined,
  hasInstalledServer: boolean,
  platform: string,
): LaunchPlan {
  const mm = `${version[0]}.${version[1]}`;
  if (bundlePythons?.includes(mm)) return { kind: "bundled" };
  if (hasInstalledServer) return { kind: "installed" };
  const problem = bundlePythons
    ? `Python ${mm} cannot run the libraries bundled in this extension (built for Python ${bundlePythons.join(", ")} on ${platform}). ` +
      "Select one of those interpreters, or install the server into this one: pip install attune-companion."
    : `This extension has no bundled libraries and Python ${mm} does not have attune-companion: pip install attune-companion.`;
  return { kind: "error", problem };
}

interface PythonExtensionApi {
  environments?: {
    getActiveEnvironmentPath(resource?: vscode.Uri): { path: string };
    resolveEnvironment(env: { path: string } | string): Promise<{ executable?: { uri?: vscode.Uri } } | undefined>;
    onDidChangeActiveEnvironmentPath?: vscode.Event<unknown>;
  };
}

export async function pythonExtensionApi(): Promise<PythonExtensionApi | undefined> {
  const ext = vscode.extensions.getExtension<PythonExtensionApi>(PYTHON_EXTENSION_ID);
  if (!ext) return undefined;
  try {
    return ext.isActive ? ext.exports : await ext.activate();
  } catch {
    return undefined;
  }
}

export function hasPythonExtension(): boolean {
  return vscode.extensions.getExtension(PYTHON_EXTENSION_ID) !== undefined;
}

/** The attune.interpreter setting's interpreter, if set. */
export function configuredInterpreter(): Interpreter | undefined {
  const configured = interpreterSetting()?.trim();
  return configured ? { command: configured, source: "setting" } : undefined;
}

/** The interpreter when nothing names one: python3 (python on Windows) on PATH. */
export function pathInterpreter(): Interpreter {
  return { command: process.platform === "win32" ? "python" : "python3", source: "PATH" };
}

export async function findInterpreter(log: (msg: string) => void): Promise<Interpreter> {
  const configured = configuredInterpreter();
  if (configured) return configured;
  const api = await pythonExtensionApi();
  if (api?.environments) {
    try {
      const resource = vscode.workspace.workspaceFolders?.[0]?.uri;
      const active = api.environments.getActiveEnvironmentPath(resource);
      const env = await api.environments.resolveEnvironment(active);
      const exe = env?.executable?.uri?.fsPath;
      if (exe) return { command: exe, source: "python extension" };
    } catch (err) {
      log(`The Python extension did not give an interpreter: ${String(err)}`);
    }
  }
  return pathInterpreter();
}

/** Runs the interpreter once to read its version; no shell, 15 s limit. */
export function checkInterpreter(interpreter: Interpreter): Promise<InterpreterCheck> {
  return new Promise((resolve) => {
    execFile(
      interpreter.command,
      ["-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"],
      { timeout: 15000, windowsHide: true },
      (error, stdout) => {
        if (error) {
          const why = error.code === "ENOENT" ? "was not found" : `failed to run (${error.message})`;
          resolve({ ok: false, interpreter, problem: `Python interpreter "${interpreter.command}" (${interpreter.source}) ${why}.` });
          return;
        }
        const version = parsePythonVersion(stdout);
        if (!isSupportedPython(version)) {
          resolve({ ok: false, interpreter, problem: tooOldProblem(version, interpreter.command) });
          return;
        }
        resolve({ ok: true, interpreter, version: version.join("."), parsed: version });
      },
    );
  });
}

/** Whether the interpreter itself has the server installed (pip install attune-companion). */
export function hasInstalledServer(interpreter: Interpreter): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(
      interpreter.command,
      ["-c", "import importlib.util, sys; sys.exit(0 if importlib.util.find_spec('attune.lsp') else 1)"],
      { timeout: 15000, windowsHide: true },
      (error) => resolve(!error),
    );
  });
}
