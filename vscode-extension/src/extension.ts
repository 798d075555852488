// Entry point: wires the pieces together. The language client lives in
// common/server.ts, the commands in commands.ts, the breaker status item in
// breakerItem.ts, the read-only views in views.ts.
import * as path from "node:path";
import * as vscode from "vscode";
import { BreakerItem } from "./breakerItem";
import { registerCommands } from "./commands";
import { CONFIG_SECTION, DISPLAY_NAME, fullSettingName, LENS_SETTINGS_GROUP, Notifications } from "./common/constants";
import { pythonExtensionApi } from "./common/python";
import { spawnHeadStart } from "./common/headStart";
import { executeWithProgress } from "./common/progressRequest";
import { AttuneServer } from "./common/server";
import { interpreterSetting, RESTART_SETTINGS } from "./common/settings";
import { registerOverview } from "./overviewPanel";
import { summarySource } from "./overviewSource";
import { registerRunTask } from "./runTask";
import { UsageItem } from "./usageItem";
import { ReadOnlyViews } from "./views";

// Spawned while VS Code builds the context `activate` gets (see common/headStart.ts):
// this module is evaluated only to activate the extension. out/extension.js → the
// extension's folder.
const headStart = spawnHeadStart(path.dirname(__dirname));

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const output = vscode.window.createOutputChannel(DISPLAY_NAME, { log: true });
  const views = new ReadOnlyViews();
  const breakers = new BreakerItem(output);
  const server = new AttuneServer(context, output, headStart);
  server.onNotification(Notifications.breakerStatus, (params) => breakers.onNotification(params));
  server.onNotification(Notifications.apiSpend, (params) => breakers.onSpend(params));
  const usage = new UsageItem(output);
  server.onNotification(Notifications.usage, (params) => usage.onNotification(params));
  context.subscriptions.push(
    breakers,
    output,
    server,
    views,
    views.register(),
    server.onHealth((health) => {
      if (health !== "running") {
        breakers.clear();
        usage.clear();
      }
    }),
    usage,
    ...registerRunTask({
      output,
      server: { execute: (c, a) => server.execute(c, a), executeWithProgress: (c, a, o) => executeWithProgress(server, c, a, o) },
    }),
    ...registerCommands({ secrets: context.secrets, output, server, views, breakers }),
    ...registerOverview(server, summarySource(server), context.extensionUri, output),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration(CONFIG_SECTION)) output.info("Attune settings changed");
      // Lens settings reach the running server through didChangeConfiguration;
      // only the interpreter needs a new process.
      if (RESTART_SETTINGS.some((s) => e.affectsConfiguration(s))) void server.restart();
      else if (e.affectsConfiguration(fullSettingName(LENS_SETTINGS_GROUP))) void server.sendSettings();
    }),
  );

  // Not awaited: activation stays quick; commands wait for the start themselves.
  void server.start();

  // Follow the Python extension's interpreter when attune.interpreter is not set.
  const api = await pythonExtensionApi();
  const changed = api?.environments?.onDidChangeActiveEnvironmentPath;
  if (changed) {
    context.subscriptions.push(
      changed(() => {
        if (!interpreterSetting()) void server.restart();
      }),
    );
  }
}

export function deactivate(): void {
  /* subscriptions dispose the client */
}
