// Pure logic of the setup wizard's QuickPicks. The rules (which mode suits a
// file, its pros/cons and costs) come from the server (AuthStrategy.get_pros_cons);
// this module only turns them into items.
import { formatCount, formatMoney } from "./common/format";

export type TierValue = "free" | "pro" | "max" | "team" | "enterprise" | "api_only";
export type ModeValue = "auto" | "subscription" | "api";

export interface TierItem {
  label: string;
  description?: string;
  detail?: string;
  value: TierValue;
  picked?: boolean;
}

export interface ModeItem {
  label: string;
  description?: string;
  detail?: string;
  value: ModeValue;
}

// Labels match the core's TIER_LABELS; the e2e test picks "Pro" by its label.
// `quota` mirrors SubscriptionTier.has_subscription_quota, used only when no file
// is open (with a file, the server's pros/cons say whether a mode is offered).
const TIERS: ReadonlyArray<{ value: TierValue; label: string; detail: string; quota: boolean }> = [
  { value: "free", label: "Free", detail: "No quota for coding tools: files run on the API.", quota: false },
  { value: "pro", label: "Pro", detail: "Claude Pro subscription.", quota: true },
  { value: "max", label: "Max", detail: "Claude Max subscription.", quota: true },
  { value: "team", label: "Team", detail: "Claude Team plan.", quota: true },
  { value: "enterprise", label: "Enterprise", detail: "Claude Enterprise plan.", quota: true },
  { value: "api_only", label: "None — API only", detail: "No subscription: every file runs on the pay-per-token API.", quota: false },
];

export function tierItems(current?: string): TierItem[] {
  return TIERS.map((t) => ({
    label: t.label,
    value: t.value,
    detail: t.detail,
    description: t.value === current ? "current" : undefined,
  }));
}

export interface Estimate {
  mode?: string;
  monetary_cost?: number;
  api_equivalent_cost?: number;
  quota_cost?: number;
  tokens?: number;
  fits_in_context?: boolean;
}

export interface ProsConsEntry {
  /** false: the plan cannot run this mode (no subscription quota), so it is not offered */
  offered?: boolean;
  pros?: string[];
  cons?: string[];
  estimate?: Estimate;
  recommended_mode?: string;
  reason?: string;
}

export type ProsCons = Partial<Record<ModeValue, ProsConsEntry>>;

/** Finds get_pros_cons()'s object in a showDetails/recommend answer, whatever it is nested under. */
export function findProsCons(details: unknown): ProsCons | undefined {
  if (!details || typeof details !== "object") return undefined;
  const d = details as Record<string, unknown>;
  if (d.subscription && d.api && typeof d.subscription === "object") return d;
  for (const key of ["pros_cons", "prosCons", "modes"]) {
    const inner = findProsCons(d[key]);
    if (inner) return inner;
  }
  return undefined;
}

export function estimateText(mode: ModeValue, entry: ProsConsEntry | undefined): string {
  const e = entry?.estimate;
  if (!e) return "";
  const on = e.mode ?? mode;
  if (on === "subscription") {
    return `Estimated for this file: $0 · ≈${formatCount(e.quota_cost ?? 0)} tokens of quota`;
  }
  const money = formatMoney(e.monetary_cost ?? 0);
  return on === "api" ? `Estimated for this file: ≈${money} on the API` : `Estimated for this file: ${money}`;
}

const STATIC: Record<ModeValue, { label: string; pros: string; cons: string }> = {
  auto: {
    label: "Auto (recommended)",
    pros: "Picks per module: the API for small ones, your subscription for larger ones",
    cons: "the choice can change as a module grows past a threshold",
  },
  subscription: {
    label: "Subscription",
    pros: "No per-token charge on top of the flat fee",
    cons: "uses your plan's quota; 200K-token context",
  },
  api: {
    label: "API",
    pros: "Cheap for small modules; 1M-token context",
    cons: "pay per token; needs an API key",
  },
};

// Auto's generic line for a plan without subscription quota: everything runs on the API.
const AUTO_WITHOUT_QUOTA = "Every module runs on the API (your plan has no subscription quota)";

/** Whether the wizard offers `mode` for `tier`: the server's answer for the active file
 * when there is one, else the plan's quota. */
function offered(mode: ModeValue, prosCons: ProsCons | undefined, tier: TierValue | undefined): boolean {
  const entry = prosCons?.[mode];
  if (entry?.offered !== undefined) return entry.offered;
  return mode !== "subscription" || TIERS.find((t) => t.value === tier)?.quota !== false;
}

/**
 * Mode items for the plan picked in step 1. With the active file's pros/cons (from
 * the server) each detail reads "Pros: … · Cons: … · Estimated for this file: …";
 * without a file, a generic line. A mode the plan cannot run (the subscription on
 * Free or API only) is not offered, so no subscription price is shown for it.
 */
export function modeItems(prosCons: ProsCons | undefined, fileName?: string, tier?: TierValue): ModeItem[] {
  const modes = (["auto", "subscription", "api"] as ModeValue[]).filter((mode) => offered(mode, prosCons, tier));
  const withoutQuota = !offered("subscription", prosCons, tier);
  return modes.map((mode) => {
    const entry = prosCons?.[mode];
    const fallback = STATIC[mode];
    const generic = mode === "auto" && withoutQuota ? AUTO_WITHOUT_QUOTA : fallback.pros;
    const pros = entry?.pros?.length ? entry.pros.join(" ") : generic + ".";
    const cons = entry?.cons?.length ? entry.cons.join(" ") : fallback.cons + ".";
    const cost = estimateText(mode, entry);
    let description: string | undefined;
    if (mode === "auto" && entry?.recommended_mode && fileName) {
      description = `${fileName}: ${entry.recommended_mode}`;
    }
    return {
      label: fallback.label,
      value: mode,
      description,
      detail: [`Pros: ${pros}`, `Cons: ${cons}`, cost].filter(Boolean).join(" · "),
    };
  });
}

/** Whether the chosen strategy may call the API, so an API key is worth offering. */
export function mayUseApi(mode: ModeValue): boolean {
  // Auto sends small modules (and everything on Free / API only) to the API; an
  // explicit "subscription" mode never calls it.
  return mode === "api" || mode === "auto";
}

export interface KeyOfferItem {
  label: string;
  detail: string;
  store: boolean;
}

export function apiKeyOfferItems(): KeyOfferItem[] {
  return [
    {
      label: "Store an Anthropic API key",
      detail: "Kept in VS Code's secret storage and passed to the Attune server through its environment; never written to a setting or file.",
      store: true,
    },
    {
      label: "Skip",
      detail: "Set it later with “Attune: Store Anthropic API Key”, or export ANTHROPIC_API_KEY before starting VS Code.",
      store: false,
    },
  ];
}

export function tierLabel(value: string): string {
  return TIERS.find((t) => t.value === value)?.label ?? value;
}

export function modeLabel(value: string): string {
  return STATIC[value as ModeValue]?.label.replace(" (recommended)", "") ?? value;
}

/**
 * The argument object of attune.server.showDetails for QuickPick 2: the details of
 * the active file under the saved strategy with the tier picked in QuickPick 1
 * (the server saves nothing).
 */
export function detailsArguments(uri: string, tier: TierValue): { uri: string; tier: TierValue } {
  return { uri, tier };
}

/** The argument object of attune.server.setupAuth. */
export function setupArguments(tier: TierValue, mode: ModeValue): { tier: TierValue; mode: ModeValue } {
  return { tier, mode };
}
