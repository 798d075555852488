// The command handlers against a fake server and the vscode stand-in: which server
// commands they run with which arguments, and what the user sees.
import assert from "node:assert/strict";
import { beforeEach, test } from "node:test";
import { parseBreakerPayload, type BreakerPayload } from "../src/breakerItem";
import { AttuneCommands, registerCommands, type CommandDeps } from "../src/commands";
import { Commands, ServerCommands } from "../src/common/constants";
import { registerOverview } from "../src/overviewPanel";
import { registerRunTask } from "../src/runTask";
import { PROS_CONS } from "./fixtures";
import { Disposable, Uri } from "vscode";
import { fake } from "./stubs/vscode";

/** A value, or a function of the arguments (which may throw). */
type Reply = unknown;

/** A fake AttuneServer: answers per command, records every call. */
function harness(replies: Record<string, Reply> = {}) {
  const executed: Array<[string, Record<string, unknown> | undefined]> = [];
  const logged: string[] = [];
  const shown: Array<[string, string]> = [];
  const secrets = new Map<string, string>();
  let restarts = 0;
  let payload: BreakerPayload | undefined;
  const deps: CommandDeps = {
    secrets: {
      get: (k: string) => Promise.resolve(secrets.get(k)),
      store: (k: string, v: string) => Promise.resolve(void secrets.set(k, v)),
      delete: (k: string) => Promise.resolve(void secrets.delete(k)),
      onDidChange: () => ({ dispose: () => undefined }),
    },
    output: {
      error: (m: string) => void logged.push(`error: ${m}`),
      warn: (m: string) => void logged.push(`warn: ${m}`),
      show: () => void logged.push("show"),
    },
    server: {
      execute<T>(command: string, args?: Record<string, unknown>): Promise<T> {
        executed.push([command, args]);
        const reply = replies[command];
        try {
          return Promise.resolve((typeof reply === "function" ? (reply as (a?: Record<string, unknown>) => unknown)(args) : reply) as T);
        } catch (err) {
          return Promise.reject(err instanceof Error ? err : new Error(String(err)));
        }
      },
      restart: () => Promise.resolve(void restarts++),
    },
    views: { show: (name: string, markdown: string) => Promise.resolve(void shown.push([name, markdown])) },
    breakers: {
      get current() {
        return payload;
      },
      update: (p: BreakerPayload) => void (payload = p),
    },
  };
  return { deps, commands: new AttuneCommands(deps), executed, logged, shown, secrets, restarts: () => restarts };
}

const fail = (message: string) => () => {
  throw new Error(message);
};

beforeEach(() => fake.reset());

test("every command is registered once: the palette's (package.json) and the internal ones", () => {
  const runServer = { execute: <T>() => Promise.resolve(undefined as T), executeWithProgress: <T>() => Promise.resolve(undefined as T) };
  const disposables = [
    ...registerCommands(harness().deps),
    ...registerRunTask({ server: runServer, output: { info: () => undefined, warn: () => undefined, error: () => undefined, show: () => undefined } }),
    ...registerOverview(
      { client: undefined, health: "stopped", onHealth: () => new Disposable(() => undefined), onNotification: () => undefined },
      () => Promise.resolve({}),
      Uri.file("/ext"),
      { info: () => undefined, error: () => undefined, warn: () => undefined },
    ),
  ];
  assert.deepEqual([...fake.commands.keys()].sort(), Object.values(Commands).sort());
  for (const d of disposables) d.dispose();
  assert.equal(fake.commands.size, 0);
});

test("setup wizard: Pro, then Auto for the active file, key skipped: saved through the server", async () => {
  const h = harness({
    [ServerCommands.authStatus]: { subscription_tier: "api_only" },
    [ServerCommands.showDetails]: { pros_cons: PROS_CONS },
    [ServerCommands.setupAuth]: {},
  });
  fake.activeFile = "file:///w/large_module.py";
  fake.answer(
    "showQuickPick",
    (items: Array<{ label: string }>) => items.find((i) => i.label === "Pro"),
    (items: Array<{ label: string }>) => items.find((i) => i.label === "Auto (recommended)"),
    (items: Array<{ label: string }>) => items.find((i) => i.label === "Skip"),
  );
  await h.commands.setupAuth();
  assert.deepEqual(h.executed, [
    [ServerCommands.authStatus, undefined],
    [ServerCommands.showDetails, { uri: "file:///w/large_module.py", tier: "pro" }],
    [ServerCommands.setupAuth, { tier: "pro", mode: "auto" }],
  ]);
  const [tiers, modes, offer] = fake.callsOf("showQuickPick") as Array<[Array<{ label: string; description?: string }>, { title: string }]>;
  assert.equal(tiers[0].find((i) => i.label === "None — API only")?.description, "current");
  assert.equal(modes[1].title, "Attune: Set Up Authentication (2/2) · Pro");
  assert.equal(modes[0][0].description, "large_module.py: api");
  assert.equal(offer[1].title, "Attune: this choice may use the Anthropic API");
  assert.deepEqual(fake.callsOf("showInformationMessage"), [["Attune: strategy saved — Pro · Auto."]]);
  assert.equal(h.restarts(), 0);
});

test("setup wizard: a key stored on the way restarts the server so it gets the key; Subscription offers none", async () => {
  const h = harness({ [ServerCommands.setupAuth]: {} });
  fake.answer(
    "showQuickPick",
    (items: Array<{ label: string }>) => items.find((i) => i.label === "Max"),
    (items: Array<{ label: string }>) => items.find((i) => i.label === "API"),
    (items: Array<{ store: boolean }>) => items.find((i) => i.store),
  );
  fake.answer("showInputBox", "  sk-test  ");
  await h.commands.setupAuth();
  assert.equal(h.secrets.get("attune.anthropicApiKey"), "sk-test");
  assert.equal(h.restarts(), 1);
  fake.reset();
  fake.answer(
    "showQuickPick",
    (items: Array<{ label: string }>) => items.find((i) => i.label === "Pro"),
    (items: Array<{ label: string }>) => items.find((i) => i.label === "Subscription"),
  );
  h.secrets.clear();
  await h.commands.setupAuth();
  assert.equal(fake.callsOf("showQuickPick").length, 2); // no key offer
});

test("reset: the modal names the backup; Cancel changes nothing; Reset then Undo restores the backup", async () => {
  const h = harness({
    [ServerCommands.authStatus]: { path: "/home/u/.config/attune/auth_strategy.json" },
    [ServerCommands.resetAuth]: { backup: "/home/u/.config/attune/backups/auth_strategy-1.json" },
    [ServerCommands.restoreAuth]: {},
  });
  await h.commands.resetAuth();
  const [modal] = fake.callsOf("showWarningMessage") as Array<[string, { modal: boolean; detail: string }, string]>;
  assert.equal(modal[1].modal, true);
  assert.equal(modal[1].detail, "The current strategy is backed up first, to /home/u/.config/attune/backups/auth_strategy-<timestamp>.json.");
  assert.deepEqual(h.executed.map(([c]) => c), [ServerCommands.authStatus]);

  fake.answer("showWarningMessage", "Reset");
  fake.answer("showInformationMessage", "Undo");
  await h.commands.resetAuth();
  assert.deepEqual(h.executed.slice(2), [
    [ServerCommands.resetAuth, { confirm: true }],
    [ServerCommands.restoreAuth, { backup: "/home/u/.config/attune/backups/auth_strategy-1.json" }],
  ]);
  assert.deepEqual(fake.callsOf("showInformationMessage"), [
    ["Attune: strategy reset. Backup: /home/u/.config/attune/backups/auth_strategy-1.json", "Undo"],
    ["Attune: strategy restored from /home/u/.config/attune/backups/auth_strategy-1.json."],
  ]);
});

test("a failing server command: logged once and shown once with Show Logs, no view", async () => {
  const h = harness({ [ServerCommands.authStatus]: fail("the language server is not running") });
  fake.answer("showErrorMessage", "Show Logs");
  await h.commands.showAuthStatus();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(h.logged, ["error: reading the status failed: the language server is not running", "show"]);
  assert.deepEqual(fake.callsOf("showErrorMessage"), [["Attune: reading the status failed: the language server is not running", "Show Logs"]]);
  assert.equal(h.shown.length, 0);
});

test("a lens click opens the details view of its file, passing the lens's arguments on", async () => {
  const h = harness({ [ServerCommands.showDetails]: { report: { lines: 3000, category: "large", mode: "subscription" } } });
  await h.commands.showDetails({ uri: "file:///w/large_module.py", extra: 1 });
  assert.deepEqual(h.executed, [[ServerCommands.showDetails, { uri: "file:///w/large_module.py", extra: 1 }]]);
  assert.equal(h.shown[0][0], "Attune — large_module.py");
  assert.match(h.shown[0][1], /\*\*Large module\*\* · 3,000 lines of code/);
});

test("recommend and details without an open file ask for one; nothing is sent to the server", async () => {
  const h = harness();
  await h.commands.recommend();
  await h.commands.showDetails();
  assert.deepEqual(fake.callsOf("showInformationMessage"), [
    ["Attune: open a file to get a recommendation for it."],
    ["Attune: open a file first."],
  ]);
  assert.equal(h.executed.length, 0);
});

test("recommend: the mode and reason for the active file; Details opens its view", async () => {
  const h = harness({
    [ServerCommands.recommend]: { mode: "api", reason: "Small module: cheap on the API." },
    [ServerCommands.showDetails]: { report: { lines: 100, category: "small" } },
  });
  fake.activeFile = "file:///w/small_module.py";
  fake.answer("showInformationMessage", "Details");
  await h.commands.recommend();
  assert.deepEqual(fake.callsOf("showInformationMessage"), [["Attune: small_module.py → API. Small module: cheap on the API.", "Details"]]);
  assert.deepEqual(h.executed[1], [ServerCommands.showDetails, { uri: "file:///w/small_module.py" }]);
  assert.equal(h.shown[0][0], "Attune — small_module.py");
});

test("breaker QuickPick: fresh states from the server; picking a provider and tier resets just that one", async () => {
  const fresh = { providers: { "anthropic:premium": { state: "open", failure_count: 5, opened_at: null, retry_at: null } } };
  const h = harness({ [ServerCommands.breakerStatus]: fresh, [ServerCommands.resetBreaker]: {} });
  fake.answer("showQuickPick", (items: Array<{ provider?: string }>) => items.find((i) => i.provider === "anthropic"));
  await h.commands.breakerPick("Reset which circuit breaker?");
  assert.deepEqual(h.deps.breakers.current, parseBreakerPayload(fresh));
  assert.deepEqual(h.executed[1], [ServerCommands.resetBreaker, { provider: "anthropic", tier: "premium" }]);
  assert.deepEqual(fake.callsOf("showInformationMessage"), [["Attune: reset anthropic premium."]]);
});

test("API key: stored trimmed then the server restarts; forgetting it removes it and restarts too", async () => {
  const h = harness();
  fake.answer("showInputBox", "", " sk-1 ");
  await h.commands.storeApiKeyCommand(); // empty: skipped
  assert.equal(h.restarts(), 0);
  await h.commands.storeApiKeyCommand();
  assert.equal(h.secrets.get("attune.anthropicApiKey"), "sk-1");
  assert.equal(h.restarts(), 1);
  const [[box]] = fake.callsOf("showInputBox") as Array<[{ password: boolean }]>;
  assert.equal(box.password, true);
  await h.commands.clearApiKey();
  assert.equal(h.secrets.has("attune.anthropicApiKey"), false);
  assert.equal(h.restarts(), 2);
});

test("Select Interpreter: the Python extension's picker when installed, else a file dialog that sets attune.interpreter", async () => {
  const h = harness();
  fake.answer("showOpenDialog", [{ fsPath: "/opt/py/bin/python3" }]);
  await h.commands.selectInterpreter();
  assert.deepEqual(fake.callsOf("updateConfiguration"), [["attune.interpreter", "/opt/py/bin/python3", 1]]);
  fake.extensions.add("ms-python.python");
  await h.commands.selectInterpreter();
  assert.deepEqual(fake.callsOf("executeCommand"), [["python.setInterpreter"]]);
});
