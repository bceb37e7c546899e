import { createRoute } from "@hono/zod-openapi";
import * as z from "zod";
import { IdParams, IdSchema, PageQuery } from "../../schemas/common";
import {
  CreateWebhookBody,
  QueuedMessageSchema,
  UpdateWebhookBody,
  WebhookDeliveryListSchema,
  WebhookListSchema,
  WebhookSchema,
  WebhookWithSecretSchema,
} from "../../schemas/reporting";
import { access, errorResponses, jsonBody, jsonContent } from "../router";

const tags = ["Webhooks"];
const orgOnly = access(["org"]);
const anyTenant = access(["org", "ci"]);

export const createWebhookRoute = createRoute({
  method: "post", path: "/projects/{id}/webhooks", tags, ...orgOnly,
  summary: "Register a webhook endpoint; its signing secret (whsec_…) is shown this once",
  request: { params: IdParams, body: jsonBody(CreateWebhookBody) },
  responses: { 201: jsonContent(WebhookWithSecretSchema, "The endpoint and its secret"), ...errorResponses(400, 401, 403, 404, 413, 415, 503) },
});

export const listWebhooksRoute = createRoute({
  method: "get", path: "/projects/{id}/webhooks", tags, ...anyTenant, summary: "A project's webhook endpoints (never the secret)",
  request: { params: IdParams, query: PageQuery },
  responses: { 200: jsonContent(WebhookListSchema, "A page of endpoints"), ...errorResponses(400, 401, 404) },
});

export const getWebhookRoute = createRoute({
  method: "get", path: "/webhooks/{id}", tags, ...anyTenant, summary: "A webhook endpoint (never the secret)",
  request: { params: IdParams },
  responses: { 200: jsonContent(WebhookSchema, "The endpoint"), ...errorResponses(400, 401, 404) },
});

export const updateWebhookRoute = createRoute({
  method: "patch", path: "/webhooks/{id}", tags, ...orgOnly, summary: "Change an endpoint's url, events or description; enabled: true re-enables it",
  request: { params: IdParams, body: jsonBody(UpdateWebhookBody) },
  responses: { 200: jsonContent(WebhookSchema, "The endpoint"), ...errorResponses(400, 401, 403, 404, 413, 415) },
});

export const deleteWebhookRoute = createRoute({
  method: "delete", path: "/webhooks/{id}", tags, ...orgOnly, summary: "Delete an endpoint and its delivery log",
  request: { params: IdParams },
  responses: { 204: { description: "Deleted" }, ...errorResponses(400, 401, 403, 404) },
});

export const rotateWebhookSecretRoute = createRoute({
  method: "post", path: "/webhooks/{id}/rotate-secret", tags, ...orgOnly,
  summary: "A new signing secret, shown this once; for 24 hours deliveries carry signatures by both",
  request: { params: IdParams },
  responses: { 200: jsonContent(WebhookWithSecretSchema, "The endpoint and its new secret"), ...errorResponses(400, 401, 403, 404, 503) },
});

export const testWebhookRoute = createRoute({
  method: "post", path: "/webhooks/{id}/test", tags, ...orgOnly, summary: "Send a webhook.test event to this endpoint now",
  request: { params: IdParams },
  responses: { 202: jsonContent(QueuedMessageSchema, "The message is queued"), ...errorResponses(400, 401, 403, 404, 409) },
});

export const listDeliveriesRoute = createRoute({
  method: "get", path: "/webhooks/{id}/deliveries", tags, ...anyTenant,
  summary: "Every delivery attempt, newest first: event, webhook-id, attempt, status code or error, duration",
  request: { params: IdParams, query: PageQuery },
  responses: { 200: jsonContent(WebhookDeliveryListSchema, "A page of attempts"), ...errorResponses(400, 401, 404) },
});

export const redeliverRoute = createRoute({
  method: "post", path: "/webhooks/{id}/deliveries/{deliveryId}/redeliver", tags, ...orgOnly,
  summary: "Send a delivered message again: the same webhook-id, a new timestamp and signature",
  request: { params: z.strictObject({ id: IdSchema, deliveryId: IdSchema }) },
  responses: { 202: jsonContent(QueuedMessageSchema, "The message is queued"), ...errorResponses(400, 401, 403, 404, 409) },
});
