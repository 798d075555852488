import assert from "node:assert/strict";
import { beforeEach, mock, test } from "node:test";
import {
  BreakerItem,
  breakerPickItems,
  breakerStatusView,
  newlyOpened,
  parseBreakerPayload,
  parseSpendPayload,
  spendLine,
  tooltipTable,
  type BreakerPayload,
} from "../src/breakerItem";
import { formatDuration, formatMoney } from "../src/common/format";
import { fake, MarkdownString } from "./stubs/vscode";

const NOW = new Date("2026-01-01T12:00:00Z");

function payload(providers: BreakerPayload["providers"]): BreakerPayload {
  return parseBreakerPayload({ providers })!;
}

test("all breakers closed: a short healthy text with Attune in it, no colour", () => {
  const view = breakerStatusView(payload({ "anthropic:premium": { state: "closed", failure_count: 0, opened_at: null, retry_at: null } }), NOW);
  assert.equal(view.text, "$(pass) Attune");
  assert.equal(view.severity, "ok");
  assert.equal(view.ticking, false);
});

test("before the server reports, the item says it is waiting", () => {
  const view = breakerStatusView(undefined, NOW);
  assert.match(view.text, /Attune/);
  assert.match(view.tooltip, /waiting/);
});

test("an open breaker names provider and tier and counts down to its retry", () => {
  const view = breakerStatusView(
    payload({
      "anthropic:premium": { state: "open", failure_count: 5, opened_at: "2026-01-01T11:59:00Z", retry_at: "2026-01-01T12:01:05Z" },
      "anthropic:cheap": { state: "closed", failure_count: 1, opened_at: null, retry_at: null },
    }),
    NOW,
  );
  assert.equal(view.text, "$(error) anthropic premium open · retry in 1m 05s");
  assert.equal(view.severity, "error");
  assert.equal(view.ticking, true);
});

test("two open breakers: the earliest retry is shown, the other counted", () => {
  const view = breakerStatusView(
    payload({
      "openai:capable": { state: "open", failure_count: 5, opened_at: null, retry_at: "2026-01-01T12:05:00Z" },
      "anthropic:premium": { state: "open", failure_count: 5, opened_at: null, retry_at: "2026-01-01T12:00:30Z" },
    }),
    NOW,
  );
  assert.equal(view.text, "$(error) anthropic premium open (+1 more) · retry in 30s");
});

test("a retry time in the past reads 'retrying' and stops the countdown", () => {
  const view = breakerStatusView(
    payload({ "anthropic:premium": { state: "open", failure_count: 5, opened_at: null, retry_at: "2026-01-01T11:00:00Z" } }),
    NOW,
  );
  assert.match(view.text, /retrying$/);
  assert.equal(view.ticking, false);
});

test("half-open uses the warning colour", () => {
  const view = breakerStatusView(
    payload({ "anthropic:capable": { state: "half_open", failure_count: 5, opened_at: null, retry_at: null } }),
    NOW,
  );
  assert.equal(view.severity, "warning");
  assert.match(view.text, /anthropic capable half-open/);
});

test("the tooltip is a Markdown table with a row per provider and tier", () => {
  const md = tooltipTable(
    payload({
      "anthropic:premium": { state: "open", failure_count: 5, opened_at: null, retry_at: "2026-01-01T12:01:00Z" },
      "anthropic:cheap": { state: "closed", failure_count: 0, opened_at: null, retry_at: null },
    }),
    NOW,
  );
  assert.match(md, /\| Provider \| Tier \| State \| Failures \| Retry \|/);
  assert.match(md, /\| anthropic \| premium \| open \| 5 \| 12:01:00 UTC \(retry in 1m 00s\) \|/);
  assert.match(md, /\| anthropic \| cheap \| closed \| 0 \| — \|/);
  // open rows come first
  assert.ok(md.indexOf("premium") < md.indexOf("cheap"));
});

test("a malformed notification is rejected; unknown states read as closed", () => {
  assert.equal(parseBreakerPayload(null), undefined);
  assert.equal(parseBreakerPayload({ open: 1 }), undefined);
  const p = parseBreakerPayload({ providers: { "x:y": { state: "weird" } } })!;
  assert.equal(p.providers["x:y"].state, "closed");
  assert.equal(p.open, 0);
});

test("only breakers that were not already open are announced", () => {
  const closed = payload({ "anthropic:premium": { state: "closed", failure_count: 4, opened_at: null, retry_at: null } });
  const open = payload({ "anthropic:premium": { state: "open", failure_count: 5, opened_at: null, retry_at: null } });
  assert.deepEqual(newlyOpened(closed, open), ["anthropic:premium"]);
  assert.deepEqual(newlyOpened(open, open), []);
  assert.deepEqual(newlyOpened(undefined, open), ["anthropic:premium"]);
});

test("the reset QuickPick offers all breakers first, then each provider and tier", () => {
  const items = breakerPickItems(
    payload({ "anthropic:premium": { state: "open", failure_count: 5, opened_at: null, retry_at: "2026-01-01T12:00:10Z" } }),
    NOW,
  );
  assert.equal(items.length, 2);
  assert.equal(items[0].provider, undefined);
  assert.equal(items[1].provider, "anthropic");
  assert.equal(items[1].tier, "premium");
  assert.equal(items[1].detail, "5 recent failures · retry in 10s");
});

test("durations and money read like the CLI", () => {
  assert.equal(formatDuration(59_000), "59s");
  assert.equal(formatDuration(245_000), "4m 05s");
  assert.equal(formatDuration(3_720_000), "1h 02m");
  assert.equal(formatMoney(0), "$0");
  assert.equal(formatMoney(0.04123), "$0.0412");
  assert.equal(formatMoney(1234.5), "$1,234.50");
});

// ---- the status bar item itself (against the vscode stand-in) ----------------

const OPEN = {
  providers: {
    "anthropic:premium": { state: "open", failure_count: 5, opened_at: "2026-01-01T11:59:00Z", retry_at: "2026-01-01T12:01:05Z" },
  },
};
const CLOSED = { providers: { "anthropic:premium": { state: "closed", failure_count: 0, opened_at: null, retry_at: null } } };

function newItem(now: () => Date = () => NOW) {
  const warnings: string[] = [];
  const item = new BreakerItem({ warn: (m: string) => void warnings.push(m) }, now);
  return { item, warnings, shown: fake.statusItems[0] };
}

beforeEach(() => fake.reset());

test("the item: right-aligned, shown at once, waiting; a click opens the breaker QuickPick", () => {
  const { item, shown } = newItem();
  assert.equal(shown.id, "attune.breakers");
  assert.equal(shown.visible, true);
  assert.equal(shown.command, "attune.showBreakerStatus");
  assert.equal(shown.text, "$(circle-outline) Attune");
  assert.match((shown.tooltip as MarkdownString).value, /waiting/);
  item.dispose();
  assert.equal(shown.disposed, true);
});

test("the item: an open breaker gets the error colour and counts down every second; closed again, the colour goes", () => {
  mock.timers.enable({ apis: ["setInterval"] });
  try {
    let now = NOW.getTime();
    const { item, shown } = newItem(() => new Date(now));
    item.onNotification(OPEN);
    assert.equal(shown.text, "$(error) anthropic premium open · retry in 1m 05s");
    assert.equal(shown.backgroundColor?.id, "statusBarItem.errorBackground");
    assert.equal((shown.tooltip as MarkdownString).supportThemeIcons, true);
    now += 1000;
    mock.timers.tick(1000);
    assert.equal(shown.text, "$(error) anthropic premium open · retry in 1m 04s");
    item.onNotification(CLOSED);
    assert.equal(shown.text, "$(pass) Attune");
    assert.equal(shown.backgroundColor, undefined);
    now += 5000;
    mock.timers.tick(5000); // no ticker left to re-render
    assert.equal(shown.text, "$(pass) Attune");
    item.dispose();
  } finally {
    mock.timers.reset();
  }
});

test("the item: one warning per opening, with Show Breakers; none when attune.showNotifications is false", async () => {
  const { item } = newItem();
  fake.answer("showWarningMessage", "Show Breakers");
  item.onNotification(OPEN);
  item.onNotification(OPEN); // still open: no second warning
  await new Promise((r) => setImmediate(r));
  const warnings = fake.callsOf("showWarningMessage");
  assert.deepEqual(warnings, [["Attune: circuit breaker open for anthropic premium.", "Show Breakers"]]);
  assert.deepEqual(fake.callsOf("executeCommand"), [["attune.showBreakerStatus"]]);
  item.onNotification(CLOSED);
  fake.config.set("attune.showNotifications", false);
  item.onNotification(OPEN);
  assert.equal(fake.callsOf("showWarningMessage").length, 1);
  item.dispose();
});

test("the item: a malformed notification is logged and changes nothing; clear() goes back to waiting", () => {
  const { item, warnings, shown } = newItem();
  item.onNotification(CLOSED);
  item.onNotification({ nonsense: true });
  assert.deepEqual(warnings, ["Ignored an attune/breakerStatus notification of an unexpected shape."]);
  assert.equal(shown.text, "$(pass) Attune");
  assert.equal(item.current?.providers["anthropic:premium"].state, "closed");
  item.clear();
  assert.equal(item.current, undefined);
  assert.equal(shown.text, "$(circle-outline) Attune");
  item.dispose();
});

const SPEND = { day: "2026-01-01", user: "ada@team.example", calls: 3, failures: 1, cost: 0.75, store: "postgresql://attune@db.team.example/attune" };

test("the tooltip says what the user's API calls cost today, once the server has said", () => {
  const closed = payload({ "anthropic:premium": { state: "closed", failure_count: 0, opened_at: null, retry_at: null } });
  assert.doesNotMatch(breakerStatusView(closed, NOW).tooltip, /API spend/);
  const tip = breakerStatusView(closed, NOW, parseSpendPayload(SPEND)).tooltip;
  assert.match(tip, /\| anthropic \| premium \| closed/);
  assert.ok(tip.includes("API spend today (ada@team.example): **$0.7500** · 3 calls, 1 failed"), tip);
  assert.ok(tip.endsWith("Click to reset a breaker."));
  assert.equal(spendLine({ ...SPEND, calls: 1, failures: 0, cost: 0 }), "API spend today (ada@team.example): **$0** · 1 call");
  const none = breakerStatusView(payload({}), NOW, parseSpendPayload(SPEND)).tooltip;
  assert.match(none, /No provider has been called yet[\s\S]*API spend today/);
});

test("the item: attune/apiSpend fills the tooltip; a malformed one is logged; clear() forgets it", () => {
  const { item, warnings, shown } = newItem();
  item.onNotification(CLOSED);
  item.onSpend(SPEND);
  assert.match(String((shown.tooltip as MarkdownString).value), /API spend today \(ada@team\.example\): \*\*\$0\.7500\*\*/);
  item.onSpend({ ...SPEND, cost: "lots" });
  assert.deepEqual(warnings, ["Ignored an attune/apiSpend notification of an unexpected shape."]);
  assert.match(String((shown.tooltip as MarkdownString).value), /\$0\.7500/);
  item.clear();
  assert.doesNotMatch(String((shown.tooltip as MarkdownString).value), /API spend/);
  item.dispose();
});
