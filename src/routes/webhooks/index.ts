import {
  changeWebhook,
  createWebhook,
  getWebhook,
  listDeliveriesPage,
  listWebhooksPage,
  redeliver,
  removeWebhook,
  rotateWebhookSecret,
  sendTestEvent,
} from "../../services/webhooks";
import { createRouter, depsOf, scopeFor } from "../router";
import * as routes from "./webhooks.routes";

export const webhooksRouter = createRouter()
  .openapi(routes.createWebhookRoute, async (c) => {
    const created = await createWebhook(depsOf(c), scopeFor(c), c.req.valid("param").id, c.req.valid("json"));
    c.header("Location", `/api/v1/webhooks/${created.id}`);
    return c.json(created, 201);
  })
  .openapi(routes.listWebhooksRoute, async (c) => c.json(await listWebhooksPage(depsOf(c), scopeFor(c), c.req.valid("param").id, c.req.valid("query")), 200))
  .openapi(routes.getWebhookRoute, async (c) => c.json(await getWebhook(depsOf(c), scopeFor(c), c.req.valid("param").id), 200))
  .openapi(routes.updateWebhookRoute, async (c) => c.json(await changeWebhook(depsOf(c), scopeFor(c), c.req.valid("param").id, c.req.valid("json")), 200))
  .openapi(routes.deleteWebhookRoute, async (c) => {
    await removeWebhook(depsOf(c), scopeFor(c), c.req.valid("param").id);
    return c.body(null, 204);
  })
  .openapi(routes.rotateWebhookSecretRoute, async (c) => c.json(await rotateWebhookSecret(depsOf(c), scopeFor(c), c.req.valid("param").id), 200))
  .openapi(routes.testWebhookRoute, async (c) => c.json(await sendTestEvent(depsOf(c), scopeFor(c), c.req.valid("param").id), 202))
  .openapi(routes.listDeliveriesRoute, async (c) => c.json(await listDeliveriesPage(depsOf(c), scopeFor(c), c.req.valid("param").id, c.req.valid("query")), 200))
  .openapi(routes.redeliverRoute, async (c) => {
    const { id, deliveryId } = c.req.valid("param");
    return c.json(await redeliver(depsOf(c), scopeFor(c), id, deliveryId), 202);
  });
