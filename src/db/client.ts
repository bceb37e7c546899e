import { drizzle } from "drizzle-orm/d1";
import * as schema from "./schema";

/** A database or a D1 Sessions API session: drizzle needs only prepare() and batch(). */
type D1Like = Pick<D1Database, "prepare" | "batch">;

export function createDb(d1: D1Like) {
  return drizzle(d1 as D1Database, { schema });
}

export type Db = ReturnType<typeof createDb>;

/** Round trips to D1 made through a counted handle (a batch is one). */
export type D1Usage = { queries: number; ms: number };

/** Wraps a D1 handle so a request can report how many round trips it made (Server-Timing). */
export function countD1(inner: D1Like, usage: D1Usage): D1Like {
  const timed = async <T>(work: Promise<T>) => {
    const started = Date.now();
    usage.queries++;
    try {
      return await work;
    } finally {
      usage.ms += Date.now() - started;
    }
  };
  const wrap = (stmt: D1PreparedStatement): D1PreparedStatement =>
    new Proxy(stmt, {
      get(target, prop) {
        if (prop === "bind") return (...values: unknown[]) => wrap(target.bind(...values));
        if (prop === "run" || prop === "all" || prop === "first" || prop === "raw") {
          return (...args: unknown[]) => timed((target[prop] as (...a: unknown[]) => Promise<unknown>).apply(target, args));
        }
        if (prop === UNWRAP) return target;
        const value = Reflect.get(target, prop, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  return {
    prepare: (query: string) => wrap(inner.prepare(query)),
    batch: ((statements: D1PreparedStatement[]) =>
      timed(inner.batch(statements.map((s) => (s as unknown as Record<symbol, D1PreparedStatement>)[UNWRAP] ?? s)))) as D1Database["batch"],
  };
}

const UNWRAP = Symbol("unwrap");
