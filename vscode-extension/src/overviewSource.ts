// The server's answer for the overview: `attune/workspaceSummary` on the running
// client, with the server's count ("120/2,000 files") followed on a progress token
// the client names, and cancellation sent as `$/cancelRequest`.
import { randomUUID } from "node:crypto";
import { WorkDoneProgress, type WorkDoneProgressBegin, type WorkDoneProgressReport } from "vscode-languageclient/node";
import { SUMMARY_REQUEST, type OverviewServer, type SummarySource } from "./overviewPanel";

/** Waits out a start in progress; then the running client, or an error saying why there is none. */
async function runningClient(server: OverviewServer) {
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

export function summarySource(server: OverviewServer): SummarySource {
  return async (params, token, onProgress) => {
    const client = await runningClient(server);
    // The server reports its count on a token the client names, and stops when the request is cancelled.
    const workDoneToken = `attune-overview-${randomUUID()}`;
    const following = client.onProgress(WorkDoneProgress.type, workDoneToken, (value) => {
      const message = (value as WorkDoneProgressBegin | WorkDoneProgressReport).message;
      if (value.kind !== "end" && message) onProgress(message);
    });
    try {
      return await client.sendRequest(SUMMARY_REQUEST, { ...params, workDoneToken }, token);
    } finally {
      following.dispose();
    }
  };
}
