// Which Python runs the server: `attune.interpreter`, then the Python extension's
// active interpreter (when it is installed), then `python3` on PATH.
import { execFile } from "node:child_process";
import * as vscode from "vscode";
import { isSupportedPython, parsePythonVersion, tooOldProblem } from "./settings";

export interface Interpreter {
  command: string;
  source: "setting" | "python extension" | "PATH";
}

export type InterpreterCheck =
  | { ok: true; interpreter: Interpreter; version: string; parsed: [number, number, number] }
  | { ok: false; interpreter: Interpreter; problem: string };

interface PythonExtensionApi {
  environments?: {
    getActiveEnvironmentPath(resource?: vscode.Uri): { path: string };
    resolveEnvironment(env: { path: string } | string): Promise<{ executable?: { uri?: vscode.Uri } } | undefined>;
    onDidChangeActiveEnvironmentPath?: vscode.Event<unknown>;
  };
}

export async function pythonExtensionApi(): Promise<PythonExtensionApi | undefined> {
  const ext = vscode.extensions.getExtension<PythonExtensionApi>("ms-python.python");
  if (!ext) return undefined;
  try {
    return ext.isActive ? ext.exports : await ext.activate();
  } catch {
    return undefined;
  }
}

export async function findInterpreter(log: (msg: string) => void): Promise<Interpreter> {
  const configured = vscode.workspace.getConfiguration("attune").get<string>("interpreter")?.trim();
  if (configured) return { command: configured, source: "setting" };
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
  return { command: process.platform === "win32" ? "python" : "python3", source: "PATH" };
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
          const why = (error as NodeJS.ErrnoException).code === "ENOENT" ? "was not found" : `failed to run (${error.message})`;
          resolve({ ok: false, interpreter, problem: `Python interpreter "${interpreter.command}" (${interpreter.source}) ${why}.` });
          return;
        }
        const version = parsePythonVersion(stdout);
        if (!isSupportedPython(version)) {
          resolve({ ok: false, interpreter, problem: tooOldProblem(version, interpreter.command) });
          return;
        }
        resolve({ ok: true, interpreter, version: version!.join("."), parsed: version! });
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
