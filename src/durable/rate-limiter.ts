// One RateLimiter per token: GCRA (the generic cell rate algorithm) over the plan's rate and
// burst, decided inside the object so concurrent requests are admitted one at a time.
// Wiring it in front of every request is the edge-layer capability's work (issue 6).
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";

export type Admission = { allowed: boolean; limit: number; remaining: number; resetSeconds: number; retryAfterSeconds: number };

export class RateLimiter extends DurableObject<Env> {
  /** Theoretical arrival time of the next request, in ms; kept in memory, recorded in storage. */
  private tat: number | null = null;

  async admit(perMinute: number, burst: number, nowMs = Date.now()): Promise<Admission> {
    this.tat ??= (await this.ctx.storage.get<number>("tat")) ?? 0;
    const interval = 60_000 / perMinute;
    const tolerance = interval * (burst - 1);
    const tat = Math.max(this.tat, nowMs);
    const allowAt = tat - tolerance;
    if (nowMs < allowAt) {
      return {
        allowed: false,
        limit: perMinute,
        remaining: 0,
        resetSeconds: Math.ceil((tat - nowMs) / 1000),
        retryAfterSeconds: Math.max(1, Math.ceil((allowAt - nowMs) / 1000)),
      };
    }
    this.tat = tat + interval;
    this.ctx.storage.put("tat", this.tat);
    const remaining = Math.max(0, Math.floor((tolerance - (this.tat - nowMs - interval)) / interval));
    return { allowed: true, limit: perMinute, remaining, resetSeconds: Math.ceil((this.tat - nowMs) / 1000), retryAfterSeconds: 0 };
  }
}
