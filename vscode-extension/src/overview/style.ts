// Colour = the recommended mode, shade = the selected task's estimated cost. Colours
// are VS Code's theme variables (set inside a webview) with fallbacks for the HTML
// report, which opens in a plain browser.

export const MODE_COLORS: Record<string, string> = {
  subscription: "var(--vscode-charts-blue, #1a85ff)",
  api: "var(--vscode-charts-orange, #d18616)",
};
/** A mode the picture does not know (a newer core): still drawn, in a neutral colour. */
export const OTHER_MODE_COLOR = "var(--vscode-charts-purple, #b180d7)";
export const BACKGROUND = "var(--vscode-editor-background, #ffffff)";

export const MODE_LABELS: Record<string, string> = { subscription: "Subscription", api: "API" };
export const CATEGORY_LABELS: Record<string, string> = { small: "Small", medium: "Medium", large: "Large" };

/** "api" -> "API"; a name the picture does not know reads as it is, capitalised. */
export function label(names: Record<string, string>, key: string): string {
  return names[key] ?? (key ? key[0].toUpperCase() + key.slice(1) : "—");
}

export function modeColor(mode: string): string {
  return MODE_COLORS[mode] ?? OTHER_MODE_COLOR;
}

/** Shades from the cheapest to the costliest file. */
export const SHADE_STEPS = 5;

/**
 * 0 (cheapest) .. SHADE_STEPS - 1 (the costliest file): the square root of the cost's
 * share of the largest, so a single large file does not wash every other tile out.
 * No cost (0, unknown) is the lightest.
 */
export function shadeLevel(cost: number | undefined, maxCost: number): number {
  if (!(cost !== undefined && cost > 0 && maxCost > 0)) return 0;
  return Math.min(SHADE_STEPS - 1, Math.floor(Math.sqrt(Math.min(1, cost / maxCost)) * SHADE_STEPS));
}

/** The share of the mode's colour mixed into the background at each shade. */
export function shadePercent(level: number): number {
  return Math.round(30 + (70 * level) / (SHADE_STEPS - 1));
}

export function tileColor(mode: string, level: number): string {
  return `color-mix(in srgb, ${modeColor(mode)} ${shadePercent(level)}%, ${BACKGROUND})`;
}
