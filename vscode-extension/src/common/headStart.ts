// The server's head start. VS Code evaluates the extension's bundle while it builds
// the extension context for `activate` (its stored state comes from the workbench:
// 0.3–0.45 s on a busy start), so the bundle spawns the server then, when the
// interpreter is known without the Python extension (the attune.interpreter setting,
// or no Python extension: python3 on PATH) and the bundled libraries are there.
// `activate` adopts it once the interpreter check agrees that the bundle runs on it;
// the stored API key, which only the context can read, reaches it as the first line
// on its stdin (ENV_KEY_ON_STDIN), before any LSP message: never through the
// environment of a process spawned before it was known, never through the LSP
// stream, whose trace may be logged. Otherwise it is stopped and the server is
// started as usual. ATTUNE_LSP_NO_HEAD_START=1 in VS Code's environment turns it off.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import * as path from "node:path";
import * as vscode from "vscode";
import { BUNDLE_MANIFEST_PATH, ENV_KEY_ON_STDIN, ENV_NO_HEAD_START, LAUNCHER_PATH } from "./constants";
import {
  checkInterpreter,
  configuredInterpreter,
  hasPythonExtension,
  pathInterpreter,
  type Interpreter,
  type InterpreterCheck,
} from "./python";

/** The environment the server runs with (the key is added by whoever starts it). */
export function serverEnvironment(): NodeJS.ProcessEnv {
  // Pydantic plugins installed in the user's interpreter are not loaded.
  return { ...process.env, PYTHONUNBUFFERED: "1", PYDANTIC_DISABLE_PLUGINS: "__all__" };
}

/** The folder the server runs in: the first workspace folder's, if any. */
export function serverCwd(): string | undefined {
  return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
}

export class HeadStart {
  readonly spawnedAt = Date.now();
  /** The check of the same interpreter, run beside the spawn. */
  readonly check: Promise<InterpreterCheck>;
  private exited = false;
  private taken = false;

  constructor(
    readonly interpreter: Interpreter,
    private readonly child: ChildProcess,
  ) {
    this.check = checkInterpreter(interpreter);
    // A spawn error (a missing executable) is the check's to report.
    child.on("error", () => (this.exited = true));
    child.on("exit", () => (this.exited = true));
  }

  /** The process, with the key written first on its stdin; undefined if it has exited. Once only. */
  adopt(key: string | undefined): ChildProcess | undefined {
    if (this.taken || this.exited || !this.child.stdin) return undefined;
    this.taken = true;
    this.child.stdin.write(`${key ?? ""}\n`);
    return this.child;
  }

  /** Stops the process if it was not adopted. */
  discard(): void {
    if (this.taken) return;
    this.taken = true;
    if (!this.exited) this.child.kill();
  }
}

/** Spawns the bundled server on an interpreter known without the Python extension, or
 * returns undefined (no bundle here, or the Python extension chooses the interpreter). */
export function spawnHeadStart(extensionPath: string): HeadStart | undefined {
  if (process.env[ENV_NO_HEAD_START] === "1") return undefined; // to measure the difference
  const configured = configuredInterpreter();
  if (!configured && hasPythonExtension()) return undefined;
  if (!existsSync(path.join(extensionPath, ...BUNDLE_MANIFEST_PATH))) return undefined;
  const interpreter = configured ?? pathInterpreter();
  try {
    const child = spawn(interpreter.command, [path.join(extensionPath, ...LAUNCHER_PATH)], {
      cwd: serverCwd(),
      env: { ...serverEnvironment(), [ENV_KEY_ON_STDIN]: "1" },
      stdio: "pipe",
      windowsHide: true,
    });
    return new HeadStart(interpreter, child);
  } catch {
    return undefined; // spawn threw (a malformed command): start as usual
  }
}
