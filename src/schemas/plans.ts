// Plan limits from the contract (seeds 000 and 001). `null` means unlimited.
export const PLANS = ["free", "starter", "pro", "business", "enterprise"] as const;
export type Plan = (typeof PLANS)[number];

export const PLAN_LIMITS: Record<Plan, { ciTokensPerProject: number | null; requestsPerMinute: number | null; burst: number | null }> = {
  free: { ciTokensPerProject: 1, requestsPerMinute: 100, burst: 10 },
  starter: { ciTokensPerProject: 3, requestsPerMinute: 200, burst: 20 },
  pro: { ciTokensPerProject: 10, requestsPerMinute: 500, burst: 50 },
  business: { ciTokensPerProject: null, requestsPerMinute: 1000, burst: 100 },
  enterprise: { ciTokensPerProject: null, requestsPerMinute: null, burst: null },
};
