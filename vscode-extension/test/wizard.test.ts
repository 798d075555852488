import assert from "node:assert/strict";
import { test } from "node:test";
import { renderAuthStatus, renderDetails } from "../src/documents";
import { isSupportedPython, launchPlan, parsePythonVersion, serverSettings, tooOldProblem } from "../src/settings";
import { apiKeyOfferItems, detailsArguments, findProsCons, mayUseApi, modeItems, tierItems } from "../src/wizard";

// The shape of AuthStrategy.get_pros_cons(100) for a Pro plan (from the core).
const PROS_CONS = {
  subscription: {
    pros: ["No per-token charge: $0 on top of the flat fee."],
    cons: ["Charged to your plan's quota: ≈2,760 tokens for this module."],
    estimate: { mode: "subscription", monetary_cost: 0, quota_cost: 2760, tokens: 400, fits_in_context: true },
  },
  api: {
    pros: ["Cheap for small modules (≈$0.0213 here)."],
    cons: ["Pay per token: ≈$0.0213 for this module, and it grows with module size."],
    estimate: { mode: "api", monetary_cost: 0.0213, quota_cost: 0, tokens: 400, fits_in_context: true },
  },
  auto: {
    pros: ["Picks per module."],
    cons: ["The choice can change as a module grows past a threshold."],
    recommended_mode: "api",
    reason: "Small module (100 lines): cheap on the API.",
    estimate: { mode: "api", monetary_cost: 0.0213, quota_cost: 0, tokens: 400, fits_in_context: true },
  },
};

test("tier items are the six plans, labelled as the issue says, current one marked", () => {
  const items = tierItems("max");
  assert.deepEqual(items.map((i) => i.label), ["Free", "Pro", "Max", "Team", "Enterprise", "None — API only"]);
  assert.deepEqual(items.map((i) => i.value), ["free", "pro", "max", "team", "enterprise", "api_only"]);
  assert.equal(items.find((i) => i.value === "max")!.description, "current");
  assert.equal(items.filter((i) => i.description).length, 1);
});

test("mode items: Auto (recommended) first; each detail has pros, cons and this file's estimate", () => {
  const items = modeItems(PROS_CONS, "small.py");
  assert.deepEqual(items.map((i) => i.label), ["Auto (recommended)", "Subscription", "API"]);
  const [auto, sub, api] = items;
  assert.equal(auto.description, "small.py: api");
  assert.match(auto.detail!, /^Pros: Picks per module\. · Cons: The choice can change/);
  assert.match(auto.detail!, /Estimated for this file: ≈\$0\.0213 on the API$/);
  assert.match(sub.detail!, /Estimated for this file: \$0 · ≈2,760 tokens of quota$/);
  assert.match(api.detail!, /Cons: Pay per token: ≈\$0\.0213 for this module/);
  assert.match(api.detail!, /Estimated for this file: ≈\$0\.0213 on the API$/);
});

test("mode items without an active file fall back to generic pros and cons, no estimate", () => {
  const items = modeItems(undefined);
  assert.equal(items.length, 3);
  for (const item of items) {
    assert.match(item.detail!, /^Pros: .+ · Cons: .+/);
    assert.doesNotMatch(item.detail!, /Estimated/);
  }
});

test("pros/cons are found in the server's details wherever they are nested", () => {
  assert.equal(findProsCons({ pros_cons: PROS_CONS }), PROS_CONS);
  assert.equal(findProsCons({ report: {}, modes: PROS_CONS }), PROS_CONS);
  assert.equal(findProsCons(PROS_CONS), PROS_CONS);
  assert.equal(findProsCons({ nothing: 1 }), undefined);
});

test("QuickPick 2's details are asked for the tier picked in QuickPick 1", () => {
  assert.deepEqual(detailsArguments("file:///w/big.py", "pro"), { uri: "file:///w/big.py", tier: "pro" });
});

test("an API key is offered for API and Auto, not for Subscription; skipping is an item", () => {
  assert.equal(mayUseApi("api"), true);
  assert.equal(mayUseApi("auto"), true);
  assert.equal(mayUseApi("subscription"), false);
  const offer = apiKeyOfferItems();
  assert.deepEqual(offer.map((o) => o.store), [true, false]);
  assert.equal(offer[1].label, "Skip");
});

test("server settings: documented defaults, partial and invalid values fall back", () => {
  const none = serverSettings(() => undefined);
  assert.deepEqual(none, { lens: { enabled: true, debounceMs: 300, maxFileSizeMB: 5, show: ["size", "mode", "cost"] }, details: { showMessage: false } });
  const values: Record<string, unknown> = { "lens.enabled": false, "lens.debounceMs": -4, "lens.show": ["cost", "bogus"] };
  const s = serverSettings(<T>(k: string) => values[k] as T);
  assert.deepEqual(s.lens, { enabled: false, debounceMs: 300, maxFileSizeMB: 5, show: ["cost"] });
});

test("python version check: 3.11 and newer only; older ones get the 'needs 3.11' message", () => {
  assert.deepEqual(parsePythonVersion("3.11.2\n"), [3, 11, 2]);
  assert.equal(isSupportedPython(parsePythonVersion("3.11.0")), true);
  assert.equal(isSupportedPython(parsePythonVersion("3.11.2")), true); // Debian 12's python3
  assert.equal(isSupportedPython(parsePythonVersion("3.13.0")), true);
  assert.equal(isSupportedPython(parsePythonVersion("3.10.13")), false);
  assert.equal(isSupportedPython(parsePythonVersion("3.9.18")), false);
  assert.equal(isSupportedPython(parsePythonVersion("2.7.18")), false);
  assert.equal(isSupportedPython(parsePythonVersion("4.0.0")), true);
  assert.equal(isSupportedPython(parsePythonVersion("garbage")), false);
});

test("too-old message names the interpreter, its version and the minimum, 3.11", () => {
  assert.equal(
    tooOldProblem([3, 10, 13], "/opt/py310/bin/python3.10"),
    'Python 3.10.13 at "/opt/py310/bin/python3.10" is too old: Attune needs Python 3.11 or newer.',
  );
  assert.match(tooOldProblem(undefined, "python3"), /^Python \(unknown version\) at "python3" is too old: Attune needs Python 3\.11 or newer\.$/);
});

test("the auth status view shows the strategy, its file, thresholds and formulas", () => {
  const md = renderAuthStatus({
    subscription_tier: "pro",
    default_mode: "auto",
    small_module_threshold: 500,
    medium_module_threshold: 2000,
    loc_to_tokens_multiplier: 4,
    path: "/home/u/.config/attune/auth_strategy.json",
    file_exists: true,
  });
  assert.match(md, /Strategy file: `\/home\/u\/\.config\/attune\/auth_strategy\.json`/);
  assert.match(md, /\| subscription_tier \| pro \(Pro\) \|/);
  assert.match(md, /\| default_mode \| auto \(Auto\) \|/);
  assert.match(md, /small\*\* below 500 lines of code, \*\*medium\*\* below 2,000/);
  assert.match(md, /Tokens ≈ lines of code × 4/);
});

test("the details view shows the size, the recommendation and every mode's pros and cons", () => {
  const md = renderDetails(
    { report: { lines: 100, category: "small", mode: "api", reason: "cheap", generated: false }, pros_cons: PROS_CONS, formula: "review (premium): reads the module" },
    "small.py",
  );
  assert.match(md, /\*\*Small module\*\* · 100 lines of code/);
  assert.match(md, /Recommended: \*\*api\*\* — cheap/);
  assert.match(md, /### Subscription[\s\S]*✅ No per-token charge/);
  assert.match(md, /⚠️ Pay per token/);
  assert.match(md, /review \(premium\): reads the module/);
});

test("launch plan: bundled libs for their Python versions, else the installed server, else a clear error", () => {
  const bundled = ["3.11", "3.12", "3.13"]; // what npm run package builds (attune_bundle.json)
  assert.deepEqual(launchPlan([3, 11, 2], bundled, false, "linux-x64"), { kind: "bundled" });
  assert.deepEqual(launchPlan([3, 12, 1], bundled, false, "linux-x64"), { kind: "bundled" });
  assert.deepEqual(launchPlan([3, 14, 0], bundled, true, "linux-x64"), { kind: "installed" });
  const err = launchPlan([3, 14, 0], bundled, false, "linux-x64");
  assert.equal(err.kind, "error");
  assert.match((err as { problem: string }).problem, /Python 3\.14 cannot run .* 3\.11, 3\.12, 3\.13 on linux-x64.*pip install attune-companion/);
  assert.deepEqual(launchPlan([3, 11, 2], undefined, true, "linux-x64"), { kind: "installed" });
});
