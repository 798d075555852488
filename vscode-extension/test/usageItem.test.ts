// The subscription usage status item: from `attune/usage` payloads (the shape
// docs/language-server.md documents) to its text, tooltip and colour, the minute
// countdown, and hiding it when Claude Code's logs are not found.
import assert from "node:assert/strict";
import { beforeEach, mock, test } from "node:test";
import { compactCount, parseUsagePayload, timeLeftText, UsageItem, usageView } from "../src/usageItem";
import { fake, MarkdownString, ThemeColor } from "./stubs/vscode";

const NOW = new Date("2026-11-27T10:00:00Z");

function payload(over: Record<string, unknown> = {}, block: Record<string, unknown> | null = {}): unknown {
  return {
    found: true,
    roots: ["/home/u/.claude/projects"],
    current_block:
      block === null
        ? null
        : {
            start: "2026-11-27T08:00:00+00:00",
            end: "2026-11-27T13:00:00+00:00",
            first_entry: "2026-11-27T08:12:00+00:00",
            last_entry: "2026-11-27T09:58:00+00:00",
            is_active: true,
            seconds_left: 12_180,
            input_tokens: 12_000,
            output_tokens: 40_321,
            cache_creation_tokens: 30_000,
            cache_read_tokens: 82_000,
            total_tokens: 164_321,
            cost_usd: 2.4567,
            entries: 57,
            models: ["claude-sonnet-4-6"],
            unpriced_models: [],
            ...block,
          },
    today: {
      key: "2026-11-27",
      input_tokens: 20_000,
      output_tokens: 60_000,
      cache_creation_tokens: 100_000,
      cache_read_tokens: 1_000_000,
      total_tokens: 1_180_000,
      cost_usd: 9.5,
      entries: 120,
      models: ["claude-sonnet-4-6"],
      unpriced_models: [],
    },
    budget_tokens: null,
    budget_used_percent: null,
    skipped_lines: 0,
    ...over,
  };
}

beforeEach(() => fake.reset());

test("an active block: its tokens and the time left, in hours and minutes", () => {
  const view = usageView(parseUsagePayload(payload()), NOW);
  assert.equal(view.visible, true);
  assert.equal(view.text, "$(pulse) 164K · 3 h 0 min left");
  assert.equal(view.warning, false);
});

test("no Claude Code logs found: the item is hidden", () => {
  assert.equal(usageView(parseUsagePayload(payload({ found: false }, null)), NOW).visible, false);
  assert.equal(usageView(undefined, NOW).visible, false);
});

test("with a block budget: the share used; over 90% in the warning colour", () => {
  const at82 = usageView(parseUsagePayload(payload({ budget_tokens: 200_000, budget_used_percent: 82.2 })), NOW);
  assert.equal(at82.text, "$(pulse) 164K · 3 h 0 min left · 82% of block");
  assert.equal(at82.warning, false);
  assert.match(at82.tooltip, /Block budget: 82\.2% of 200,000 tokens used/);
  const at93 = usageView(parseUsagePayload(payload({ budget_tokens: 176_000, budget_used_percent: 93.4 })), NOW);
  assert.equal(at93.warning, true);
});

test("the tooltip: the current block's times, tokens by kind, API-equivalent cost; today's tokens and cost", () => {
  const { tooltip } = usageView(parseUsagePayload(payload()), NOW);
  assert.match(tooltip, /Current 5-hour block: 08:00:00 UTC – 13:00:00 UTC, 3 h 0 min left/);
  assert.match(tooltip, /164,321 tokens \(input 12,000 · output 40,321 · cache write 30,000 · cache read 82,000\) · API-equivalent \$2\.46/);
  assert.match(tooltip, /Today \(2026-11-27\): 1,180,000 tokens .* · API-equivalent \$9\.50/);
});

test("no running block (none, or one whose end has passed): says so, today still in the tooltip", () => {
  const none = usageView(parseUsagePayload(payload({}, null)), NOW);
  assert.equal(none.text, "$(pulse) no active block");
  assert.match(none.tooltip, /Today \(2026-11-27\)/);
  const ended = usageView(parseUsagePayload(payload()), new Date("2026-11-27T13:00:01Z"));
  assert.equal(ended.text, "$(pulse) no active block");
});

test("the item counts down every minute from the block's end, without a new notification", () => {
  mock.timers.enable({ apis: ["setInterval"] });
  try {
    let now = new Date("2026-11-27T09:36:30Z");
    const item = new UsageItem({ warn: () => undefined }, () => now);
    const [bar] = fake.statusItems;
    assert.equal(bar.visible, false);
    item.onNotification(payload());
    assert.equal(bar.visible, true);
    assert.equal(bar.text, "$(pulse) 164K · 3 h 23 min left");
    assert.ok(bar.tooltip instanceof MarkdownString);
    now = new Date("2026-11-27T09:37:30Z");
    mock.timers.tick(60_000);
    assert.equal(bar.text, "$(pulse) 164K · 3 h 22 min left");
    now = new Date("2026-11-27T13:00:30Z");
    mock.timers.tick(60_000);
    assert.equal(bar.text, "$(pulse) no active block");
    item.onNotification(payload({ budget_tokens: 170_000, budget_used_percent: 96.7 }, { end: "2026-11-27T15:00:00+00:00" }));
    assert.deepEqual(bar.backgroundColor, new ThemeColor("statusBarItem.warningBackground"));
    item.clear(); // the server stopped
    assert.equal(bar.visible, false);
    item.dispose();
  } finally {
    mock.timers.reset();
  }
});

test("a payload of another shape is ignored with a warning; the item keeps what it showed", () => {
  const warned: string[] = [];
  const item = new UsageItem({ warn: (m: string) => void warned.push(m) }, () => NOW);
  item.onNotification(payload());
  item.onNotification({ blocks: [] });
  assert.equal(fake.statusItems[0].text, "$(pulse) 164K · 3 h 0 min left");
  assert.deepEqual(warned, ["Ignored an attune/usage notification of an unexpected shape."]);
  item.dispose();
});

test("compact counts and times left read as the status bar shows them", () => {
  assert.deepEqual([980, 1_000, 164_321, 999_499, 999_500, 1_250_000, 12_600_000].map(compactCount), ["980", "1K", "164K", "999K", "1.0M", "1.3M", "13M"]);
  assert.deepEqual([30_000, 60_000, 59 * 60_000, 3 * 3_600_000 + 23 * 60_000 + 59_000].map(timeLeftText), [
    "< 1 min left",
    "1 min left",
    "59 min left",
    "3 h 23 min left",
  ]);
});
