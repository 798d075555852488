// The getting-started walkthrough (package.json contributes.walkthroughs): its four
// steps, the commands they link to and complete on, and their Markdown media.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { test } from "node:test";
import { Commands } from "../src/common/constants";

const root = resolve(__dirname, "..", "..");
interface Step {
  id: string;
  title: string;
  description: string;
  media: { markdown?: string };
  completionEvents?: string[];
}
interface Manifest {
  contributes: { commands: Array<{ command: string }>; walkthroughs: Array<{ id: string; title: string; steps: Step[] }> };
}
const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as Manifest;
const [walkthrough] = manifest.contributes.walkthroughs;
const steps = walkthrough?.steps ?? [];
const links = (step: Step) => [...step.description.matchAll(/\(command:([\w.]+)\)/g)].map((m) => m[1]);

test("the walkthrough has four steps: set up the plan, read a lens, open the overview, run a task", () => {
  assert.equal(manifest.contributes.walkthroughs.length, 1);
  assert.deepEqual(
    steps.map((s) => s.title),
    ["Set up your plan", "Read a lens", "Open the overview", "Run a task"],
  );
  assert.deepEqual(links(steps[0]), [Commands.setupAuth]);
  assert.deepEqual(links(steps[2]), [Commands.showOverview]);
  assert.ok(links(steps[3]).includes(Commands.runTask));
});

test("every attune command a step links to is in the palette; each step completes on an Attune command", () => {
  const contributed = new Set(manifest.contributes.commands.map((c) => c.command));
  const clientCommands = new Set<string>(Object.values(Commands));
  for (const step of steps) {
    for (const command of links(step).filter((c) => c.startsWith("attune."))) {
      assert.ok(contributed.has(command), `${step.id} links to ${command}, which package.json does not contribute`);
    }
    const completions = step.completionEvents ?? [];
    assert.ok(completions.length > 0, `${step.id} never completes`);
    for (const event of completions) {
      const command = /^onCommand:(.+)$/.exec(event)?.[1];
      assert.ok(command && clientCommands.has(command), `${step.id}: ${event} is not an Attune command`);
    }
  }
});

test("each step's media is a short Markdown file under walkthrough/ that ships in the .vsix", () => {
  const ignored = readFileSync(join(root, ".vscodeignore"), "utf8").split("\n").map((l) => l.trim());
  assert.ok(!ignored.some((l) => l.startsWith("walkthrough") || l === "**/*.md"), "walkthrough/ is left out of the .vsix");
  for (const step of steps) {
    const file = step.media.markdown ?? "";
    assert.match(file, /^walkthrough\/[\w-]+\.md$/, `${step.id}: media ${file}`);
    assert.ok(existsSync(join(root, file)), `${step.id}: ${file} is missing`);
    const text = readFileSync(join(root, file), "utf8");
    assert.ok(text.startsWith("# ") && text.length < 1200, `${step.id}: ${file} is ${text.length} characters`);
  }
});
