// A server command that reports work-done progress and can be cancelled: the client
// names the progress token (so the server reports on it instead of creating one, and
// VS Code shows no second, generic notification), follows `$/progress` on it, and
// passes a CancellationToken, whose cancellation the client sends as `$/cancelRequest`.
import { randomUUID } from "node:crypto";
import { ExecuteCommandRequest, LSPErrorCodes, ResponseError, WorkDoneProgress } from "vscode-languageclient/node";
import { CancelledError, type RequestOptions } from "../runTask";
import type { AttuneServer } from "./server";

/** Waits for a start in progress, as AttuneServer.execute does, then the running client,
 * or an error saying why there is none. */
export async function runningClient(server: Pick<AttuneServer, "client" | "health" | "onHealth">) {
  if (server.health === "starting") {
    await new Promise<void>((resolve) => {
      const sub = server.onHealth((health) => {
        if (health !== "starting") {
          sub.dispose();
          resolve();
        }
      });
    });
  }
  const client = server.client;
  if (!client?.isRunning()) {
    throw new Error(
      server.health === "no interpreter"
        ? "no Python interpreter: select one with “Attune: Select Interpreter”"
        : "the language server is not running (see “Attune: Show Logs”)",
    );
  }
  return client;
}

/** `workspace/executeCommand` with a progress token of its own and a cancellation token. */
export async function executeWithProgress<T>(
  server: AttuneServer,
  command: string,
  args: Record<string, unknown>,
  options: RequestOptions = {},
): Promise<T> {
  const client = await runningClient(server);
  const workDoneToken = options.onProgress ? `attune-${randomUUID()}` : undefined;
  const onProgress = options.onProgress;
  const following = workDoneToken && onProgress ? client.onProgress(WorkDoneProgress.type, workDoneToken, onProgress) : undefined;
  try {
    return (await client.sendRequest(ExecuteCommandRequest.type, { command, arguments: [args], workDoneToken }, options.cancel)) as T;
  } catch (err) {
    if (err instanceof ResponseError && err.code === LSPErrorCodes.RequestCancelled) throw new CancelledError(err.message);
    if (options.cancel?.isCancellationRequested) throw new CancelledError(String(err));
    throw err;
  } finally {
    following?.dispose();
  }
}
