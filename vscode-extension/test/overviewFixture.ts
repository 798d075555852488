// A workspace summary in the shape attune.models.overview.workspace_summary returns
// (see docs/extension.md, "Workspace overview"): five files in three folders, one of
// them empty (0 tokens), on a plan that offers both modes.
import type { WorkspaceSummary } from "../src/overview/summary";

const costs = (tokens: number) => ({
  document: tokens * 0.00002,
  review: tokens * 0.00001,
  explain: tokens * 0.000008,
  tests: tokens * 0.000015,
});

const file = (path: string, lines: number, mode: string, category: string) => {
  const tokens = lines * 4;
  const cost = costs(tokens).document;
  return {
    path,
    folder: path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : "",
    language: "Python",
    lines,
    tokens,
    tokens_basis: "default 4 tokens/line",
    calibrated: false,
    category,
    mode,
    generated: false,
    costs: costs(tokens),
    lens: `${category[0].toUpperCase()}${category.slice(1)} · ${lines.toLocaleString("en-US")} lines · ${
      mode === "api" ? "API" : "Subscription"
    } (recommended) · API ≈ $${cost.toFixed(4)}`,
  };
};

export const FILES = [
  file("src/engine/core.py", 3000, "subscription", "large"),
  file("src/engine/rules.py", 900, "subscription", "medium"),
  file("src/cli.py", 250, "api", "small"),
  file("README_snippet.py", 40, "api", "small"),
  file("src/__init__.py", 0, "api", "small"),
];

const group = (files: typeof FILES) => ({
  files: files.length,
  tokens: files.reduce((s, f) => s + f.tokens, 0),
  costs: costs(files.reduce((s, f) => s + f.tokens, 0)),
});

export function summaryJson(): Record<string, unknown> {
  return {
    root: "/home/u/project",
    task: "document",
    tasks: ["document", "review", "explain", "tests"],
    modes_offered: ["subscription", "api"],
    files: FILES,
    totals: {
      files: FILES.length,
      tokens: FILES.reduce((s, f) => s + f.tokens, 0),
      lines: FILES.reduce((s, f) => s + f.lines, 0),
      by_mode: {
        subscription: group(FILES.filter((f) => f.mode === "subscription")),
        api: group(FILES.filter((f) => f.mode === "api")),
      },
      by_category: {
        small: group(FILES.filter((f) => f.category === "small")),
        medium: group(FILES.filter((f) => f.category === "medium")),
        large: group(FILES.filter((f) => f.category === "large")),
      },
    },
    skipped: [{ path: "logo.png", reason: "binary" }],
  };
}

export type { WorkspaceSummary };
