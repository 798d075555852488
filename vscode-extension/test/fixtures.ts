// Shared test data.

// The shape of AuthStrategy.get_pros_cons(100) for a Pro plan (from the core).
export const PROS_CONS = {
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
