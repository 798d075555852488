// The overview picture's pure parts: the treemap layout, colours and shades, the
// header's totals and each tile's label and hover text.
import assert from "node:assert/strict";
import { test } from "node:test";
import { layoutTreemap, type Rect } from "../src/overview/layout";
import { modeColor, SHADE_STEPS, shadeLevel, tileColor } from "../src/overview/style";
import { parseSummary, type FileSummary } from "../src/overview/summary";
import { picture } from "../src/overview/tiles";
import { headerTotals, rowText } from "../src/overview/totals";
import { FILES, summaryJson } from "./overviewFixture";

const area = (r: Rect) => (r.x1 - r.x0) * (r.y1 - r.y0);
const inside = (inner: Rect, outer: Rect) =>
  inner.x0 >= outer.x0 - 1e-6 && inner.y0 >= outer.y0 - 1e-6 && inner.x1 <= outer.x1 + 1e-6 && inner.y1 <= outer.y1 + 1e-6;

function fileOf(path: string, tokens: number, extra: Partial<FileSummary> = {}): FileSummary {
  const cut = path.lastIndexOf("/");
  return {
    path, folder: cut < 0 ? "" : path.slice(0, cut), language: "Python", lines: tokens / 4, tokens, tokens_basis: "",
    calibrated: false, category: "small", mode: "api", generated: false, costs: { document: tokens * 1e-5 }, lens: `${path} lens`, ...extra,
  };
}

test("every file gets a tile of positive area inside the picture, the 0-token file too", () => {
  const summary = parseSummary(summaryJson());
  const { tiles } = layoutTreemap(summary.files, 1000, 600);
  assert.deepEqual(tiles.map((t) => t.file.path).sort(), FILES.map((f) => f.path).sort());
  for (const t of tiles) {
    assert.ok(area(t) > 0, `${t.file.path} has area ${area(t)}`);
    assert.ok(inside(t, { x0: 0, y0: 0, x1: 1000, y1: 600 }), `${t.file.path} is outside the picture`);
  }
  const byPath = new Map(tiles.map((t) => [t.file.path, area(t)]));
  assert.ok(byPath.get("src/__init__.py")! > 0);
  assert.ok(byPath.get("src/engine/core.py")! > byPath.get("src/engine/rules.py")!, "more tokens, larger tile");
  assert.ok(byPath.get("src/engine/rules.py")! > byPath.get("src/cli.py")!);
});

test("tiles do not overlap", () => {
  const { tiles } = layoutTreemap(parseSummary(summaryJson()).files, 800, 500);
  for (const a of tiles) {
    for (const b of tiles) {
      if (a === b) continue;
      const w = Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0);
      const h = Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0);
      assert.ok(w <= 1e-6 || h <= 1e-6, `${a.file.path} overlaps ${b.file.path}`);
    }
  }
});

test("a file's tile lies inside each of its folders' frames", () => {
  const { tiles, folders } = layoutTreemap(parseSummary(summaryJson()).files, 1000, 600);
  assert.deepEqual(folders.map((f) => f.path).sort(), ["src", "src/engine"]);
  for (const t of tiles) {
    for (const f of folders) {
      if (t.file.path.startsWith(`${f.path}/`)) assert.ok(inside(t, f), `${t.file.path} outside ${f.path}/`);
    }
  }
});

test("a workspace of empty files still shows each one, at equal size", () => {
  const files = ["a.py", "b.py", "c.py"].map((p) => fileOf(p, 0));
  const { tiles } = layoutTreemap(files, 300, 300);
  assert.equal(tiles.length, 3);
  const areas = tiles.map(area);
  for (const a of areas) assert.ok(Math.abs(a - areas[0]) < 1, `unequal areas ${areas.join(", ")}`);
});

test("among thousands of files and one huge one, every file keeps a tile with positive area", () => {
  const files = [fileOf("big/huge.py", 4_000_000), ...Array.from({ length: 2000 }, (_, i) => fileOf(`d${i % 37}/f${i}.py`, i % 5 === 0 ? 0 : 40 + i))];
  const { tiles } = layoutTreemap(files, 1200, 800);
  assert.equal(tiles.length, files.length);
  assert.equal(new Set(tiles.map((t) => t.file.path)).size, files.length);
  for (const t of tiles) assert.ok(area(t) > 0, `${t.file.path} has no area`);
});

test("colour follows the recommended mode, from the theme's chart colours with fallbacks", () => {
  assert.match(modeColor("subscription"), /^var\(--vscode-charts-blue, #[0-9a-f]{6}\)$/);
  assert.match(modeColor("api"), /^var\(--vscode-charts-orange, #[0-9a-f]{6}\)$/);
  assert.notEqual(modeColor("api"), modeColor("subscription"));
  assert.match(modeColor("something-new"), /^var\(--vscode-charts-/);
  assert.match(tileColor("api", 0), /color-mix\(in srgb, var\(--vscode-charts-orange, #[0-9a-f]{6}\) 30%, var\(--vscode-editor-background/);
  assert.match(tileColor("api", SHADE_STEPS - 1), / 100%, /);
});

test("shade follows the selected task's cost: lightest for no cost, darkest for the costliest file", () => {
  assert.equal(shadeLevel(0, 1), 0);
  assert.equal(shadeLevel(undefined, 1), 0);
  assert.equal(shadeLevel(0.5, 0), 0);
  assert.equal(shadeLevel(1, 1), SHADE_STEPS - 1);
  const levels = [0.001, 0.01, 0.1, 0.3, 0.6, 1].map((c) => shadeLevel(c, 1));
  assert.deepEqual([...levels].sort((a, b) => a - b), levels, `not monotone: ${levels.join(", ")}`);
  assert.ok(levels[0] < levels[levels.length - 1]);
});

test("changing the task re-shades the tiles by that task's cost", () => {
  const files = [fileOf("a.py", 1000, { costs: { document: 1, review: 0.01 } }), fileOf("b.py", 1000, { costs: { document: 0.01, review: 1 } })];
  const summary = { ...parseSummary(summaryJson()), files, task: "document" };
  const level = (task: string, path: string) => picture(summary, task, 400, 300).tiles.find((t) => t.path === path)!.level;
  assert.equal(level("document", "a.py"), SHADE_STEPS - 1);
  assert.ok(level("document", "b.py") < SHADE_STEPS - 1);
  assert.equal(level("review", "b.py"), SHADE_STEPS - 1);
  assert.ok(level("review", "a.py") < SHADE_STEPS - 1);
});

test("each tile's aria-label holds its path and lens text; the hover adds another task's cost", () => {
  const summary = parseSummary(summaryJson());
  const pic = picture(summary, "document", 1000, 600);
  for (const f of FILES) {
    const tile = pic.tiles.find((t) => t.path === f.path);
    assert.ok(tile, `no tile for ${f.path}`);
    assert.ok(tile.ariaLabel.includes(f.lens) && tile.ariaLabel.includes(f.path), tile.ariaLabel);
    assert.equal(tile.hover, `${f.path}\n${f.lens}`);
  }
  const review = picture(summary, "review", 1000, 600).tiles.find((t) => t.path === "src/cli.py")!;
  assert.equal(review.hover, `src/cli.py\n${FILES[2].lens}\nreview: API ≈ $0.0100`);
});

test("the header totals each offered mode and each size category for the selected task", () => {
  const summary = parseSummary(summaryJson());
  const t = headerTotals(summary, "review");
  assert.deepEqual(t.modes.map((m) => m.label), ["Subscription", "API"]);
  assert.deepEqual(t.categories.map((c) => c.label), ["Small", "Medium", "Large"]);
  assert.equal(rowText(t.modes[0]), "Subscription · 2 files · 15,600 tokens · $0.1560");
  assert.equal(rowText(t.categories[1]), "Medium · 1 file · 3,600 tokens · $0.0360");
  assert.equal(t.overall.files, 5);
  assert.equal(t.overall.tokens, 16_760);
  assert.ok(Math.abs(t.overall.cost! - 0.1676) < 1e-9);
});

test("a plan without quota (API only) shows no subscription figure in the header", () => {
  const raw = summaryJson();
  const totals = raw.totals as { by_mode: Record<string, unknown> };
  delete totals.by_mode.subscription;
  const t = headerTotals(parseSummary({ ...raw, modes_offered: ["api"] }), "document");
  assert.deepEqual(t.modes.map((m) => m.key), ["api"]);
  assert.ok(!t.modes.map(rowText).join(" ").includes("Subscription"));
});

test("a summary with odd fields is read leniently; one without files is refused with a clear message", () => {
  const s = parseSummary({ files: [{ path: "x.py", tokens: "many", costs: { document: "?" } }, { tokens: 3 }, 7], task: "review" });
  assert.equal(s.files.length, 1);
  assert.equal(s.files[0].tokens, 0);
  assert.equal(s.files[0].folder, "");
  assert.deepEqual(s.tasks, ["review"]);
  assert.throws(() => parseSummary({ root: "/x" }), /no list of files/);
  assert.throws(() => parseSummary(null), /no list of files/);
});
