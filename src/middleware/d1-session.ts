// D1's Sessions API: reads may be answered by a read replica near the caller, writes go to the
// primary. The session's bookmark travels in the X-D1-Bookmark header: a client that sends back
// the bookmark of its last answer never reads older data than it has already seen (a poll after
// a trigger sees the run). Server-Timing tells how many D1 round trips the request made.
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env";
import { countD1, createDb, type D1Usage } from "../db/client";

export const BOOKMARK_HEADER = "X-D1-Bookmark";
const BOOKMARK_PATTERN = /^[A-Za-z0-9._:-]{1,200}$/;

export const d1Session = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    const readOnly = c.req.method === "GET" || c.req.method === "HEAD";
    const sent = c.req.header(BOOKMARK_HEADER);
    const bookmark = sent && BOOKMARK_PATTERN.test(sent) ? sent : undefined;
    const session = c.env.DB.withSession(readOnly ? (bookmark ?? "first-unconstrained") : "first-primary");
    const usage: D1Usage = { queries: 0, ms: 0 };
    c.set("db", createDb(countD1(session, usage)));
    c.set("primaryDb", () => createDb(countD1(c.env.DB.withSession("first-primary"), usage)));
    await next();
    const latest = session.getBookmark();
    if (latest) c.header(BOOKMARK_HEADER, latest);
    c.header("Server-Timing", `d1;dur=${usage.ms};desc="${usage.queries} queries"`, { append: true });
  });
