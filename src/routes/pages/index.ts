// Pages for people (not the JSON API): signed run pages and signed screenshot links.
import { Hono } from "hono";
import type { AppEnv } from "../../env";
import { createDb } from "../../db/client";
import { findRunById } from "../../db/runs";
import { UUID_PATTERN } from "../../ids";
import { getArtifact, isArtifactKey } from "../../storage/artifacts";
import { verifyArtifact, verifyRunPage } from "../../services/links";
import { runDetailView } from "../../services/runs";
import { runDiffViews } from "../../services/visual";
import { linkSigner } from "../router";
import { renderRunPage } from "./run-page";
import { lastEventIdOf, SSE_HEADERS } from "../../services/event-stream";
import { signedRunEventStream } from "../../services/run-events";
import { wire } from "../../wiring";

const notFoundPage = () => new Response("Not found", { status: 404, headers: { "content-type": "text/plain; charset=utf-8" } });

export const pagesRouter = new Hono<AppEnv>()
  .get("/runs/:id", async (c) => {
    const id = c.req.param("id");
    if (!UUID_PATTERN.test(id) || !(await verifyRunPage(c.env.LINK_SIGNING_SECRET, id, c.req.query("sig")))) return notFoundPage();
    const db = createDb(c.env.DB);
    const run = await findRunById(db, id);
    if (!run) return notFoundPage();
    const signer = linkSigner(c);
    const [view, diffs] = await Promise.all([runDetailView({ db }, run, signer, Date.now()), runDiffViews({ db }, run.id, signer, Date.now())]);
    c.header("Cache-Control", "private, no-store");
    return c.html(renderRunPage(view, diffs));
  })
  // The run's events as Server-Sent Events for whoever holds the run page's signed link (the page
  // itself follows them): the same read-only view the page gives, live.
  .get("/runs/:id/events", async (c) => {
    const id = c.req.param("id");
    if (!UUID_PATTERN.test(id) || !(await verifyRunPage(c.env.LINK_SIGNING_SECRET, id, c.req.query("sig")))) return notFoundPage();
    const lastEventId = lastEventIdOf(c.req.header("last-event-id"));
    if (lastEventId === null) return notFoundPage();
    const stream = await signedRunEventStream(wire(c.env), id, lastEventId);
    return stream ? new Response(stream, { headers: SSE_HEADERS }) : notFoundPage();
  })
  .get("/artifacts/*", async (c) => {
    const key = decodeURIComponent(new URL(c.req.url).pathname.slice("/artifacts/".length));
    if (!isArtifactKey(key)) return notFoundPage();
    const valid = await verifyArtifact(c.env.LINK_SIGNING_SECRET, key, c.req.query("exp"), c.req.query("sig"), Date.now());
    if (!valid) return notFoundPage();
    const object = await getArtifact(c.env.ARTIFACTS, key);
    if (!object) return notFoundPage();
    return new Response(object.body, {
      headers: { "content-type": object.httpMetadata?.contentType ?? "application/octet-stream", "cache-control": "private, max-age=3600" },
    });
  });
