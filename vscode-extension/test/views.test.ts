import assert from "node:assert/strict";
import { test } from "node:test";
import { renderAuthStatus, renderDetails } from "../src/views";
import { PROS_CONS } from "./fixtures";

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

test("values of unexpected types from the server read as text, never '[object Object]'", () => {
  const md = renderDetails({ report: { lines: 10, category: { odd: 1 }, mode: "api", reason: ["a", "b"] } }, "x.py");
  assert.match(md, /\*\*\{"odd":1\} module\*\* · 10 lines of code/);
  assert.match(md, /Recommended: \*\*api\*\* — \["a","b"\]/);
  assert.doesNotMatch(md, /\[object Object\]/);
});
