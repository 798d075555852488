import assert from "node:assert/strict";
import { test } from "node:test";
import { apiKeyOfferItems, detailsArguments, findProsCons, mayUseApi, modeItems, tierItems } from "../src/wizard";
import { PROS_CONS } from "./fixtures";

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

test("a plan without subscription quota is not offered the subscription, nor a subscription price", () => {
  const apiOnly = {
    auto: { offered: true, pros: ["Every module runs on the API."], cons: ["Pay per token."], estimate: { mode: "api", monetary_cost: 0.0213 }, recommended_mode: "api" },
    subscription: { offered: false, pros: [], cons: ["Your plan has no subscription quota."], estimate: undefined },
    api: { offered: true, pros: ["Cheap for small modules."], cons: ["Pay per token."], estimate: { mode: "api", monetary_cost: 0.0213 } },
  };
  const withFile = modeItems(apiOnly, "small.py", "api_only");
  assert.deepEqual(withFile.map((i) => i.value), ["auto", "api"]);
  assert.ok(withFile.every((i) => !/subscription|quota/i.test(i.detail!)), withFile.map((i) => i.detail).join("\n"));
  for (const tier of ["free", "api_only"] as const) {
    const noFile = modeItems(undefined, undefined, tier);
    assert.deepEqual(noFile.map((i) => i.value), ["auto", "api"], tier);
    assert.match(noFile[0].detail!, /^Pros: Every module runs on the API \(your plan has no subscription quota\)\./);
  }
  assert.deepEqual(modeItems(undefined, undefined, "pro").map((i) => i.value), ["auto", "subscription", "api"]);
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
