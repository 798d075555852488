// The server's answer for the overview: `attune/workspaceSummary` on the running
// client, with the server's count ("120/2,000 files") followed on a progress token
// the client names, and cancellation sent as `$/cancelRequest`.
import { randomUUID } from "node:crypto";
import { WorkDoneProgress, type WorkDoneProgressBegin, type WorkDoneProgressReport } from "vscode-languageclient/node";
import { runningClient } from "./common/progressRequest";
import { SUMMARY_REQUEST, type OverviewServer, type SummarySource } from "./overviewPanel";

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
