// The ids in src/common/constants.ts against what they must match: package.json's
// contributions and the server's sources.
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { test } from "node:test";
import {
  CLIENT_ID,
  Commands,
  CONFIG_SECTION,
  fullSettingName,
  INTERNAL_COMMANDS,
  Notifications,
  ServerCommands,
  SettingKeys,
  TASK_NAMES,
} from "../src/common/constants";
import { RESTART_SETTINGS } from "../src/common/settings";

const root = resolve(__dirname, "..", "..");
interface Manifest {
  publisher: string;
  name: string;
  contributes: {
    commands: Array<{ command: string }>;
    configuration: { properties: Record<string, unknown> };
  };
  capabilities: { untrustedWorkspaces: { restrictedConfigurations: string[] } };
}
const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as Manifest;

test("the palette's commands in package.json are exactly the client commands minus the internal ones", () => {
  const contributed = manifest.contributes.commands.map((c) => c.command).sort();
  const palette = Object.values(Commands).filter((c) => !INTERNAL_COMMANDS.includes(c)).sort();
  assert.deepEqual(contributed, palette);
});

test("every setting key is a setting package.json declares, and every declared setting has a key", () => {
  const declared = Object.keys(manifest.contributes.configuration.properties).sort();
  assert.deepEqual(Object.values(SettingKeys).map(fullSettingName).sort(), declared);
  assert.equal(`${CLIENT_ID}.trace.server`, fullSettingName(SettingKeys.traceServer)); // the client reads <id>.trace.server
  assert.ok(declared.every((k) => k.startsWith(`${CONFIG_SECTION}.`)));
  assert.deepEqual(manifest.capabilities.untrustedWorkspaces.restrictedConfigurations, RESTART_SETTINGS);
});

test("every server command and notification the client uses is one the server's sources name", () => {
  const serverDir = join(root, "..", "server");
  const sources: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith(".py")) sources.push(readFileSync(p, "utf8"));
    }
  };
  walk(serverDir);
  const text = sources.join("\n");
  for (const id of [...Object.values(ServerCommands), ...Object.values(Notifications)]) {
    assert.ok(text.includes(`"${id}"`), `${id} is not in ${serverDir}`);
  }
});

test("the tasks the run command offers are the core's task definitions", () => {
  const defs = readdirSync(join(root, "..", "core", "attune", "models", "pricing", "task_defs"))
    .filter((f) => f.endsWith(".toml"))
    .map((f) => f.replace(/\.toml$/, ""))
    .sort();
  assert.deepEqual([...TASK_NAMES].sort(), defs);
});
