// Reporting back: what a run tells GitHub and webhook receivers, and the webhook endpoints' API.
import * as z from "zod";
import { HttpUrlSchema, paginated } from "./common";

export const NOTIFICATION_TARGETS = ["github"] as const;
export type NotificationTarget = (typeof NOTIFICATION_TARGETS)[number];
export const NOTIFICATION_KINDS = ["comment", "status"] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

export const NotificationSchema = z
  .object({
    target: z.enum(NOTIFICATION_TARGETS),
    kind: z.enum(NOTIFICATION_KINDS),
    ok: z.boolean(),
    status: z.number().int().nullable().describe("What the target answered; null when it could not be reached."),
    message: z.string(),
    attempts: z.number().int(),
  })
  .meta({ id: "Notification" });

export const WEBHOOK_EVENT_TYPES = ["run.started", "run.completed", "run.failed", "crawl.completed", "visual.diff_created", "webhook.test"] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

const EventsSchema = z
  .array(z.enum([...WEBHOOK_EVENT_TYPES, "*"], { error: `an event name: ${WEBHOOK_EVENT_TYPES.join(", ")} or "*"` }))
  .min(1)
  .max(WEBHOOK_EVENT_TYPES.length + 1)
  .describe('The events delivered; "*" is all of them.');

export const CreateWebhookBody = z.strictObject({
  url: HttpUrlSchema,
  events: EventsSchema,
  description: z.string().trim().max(500).optional(),
});
export type CreateWebhookBody = z.infer<typeof CreateWebhookBody>;

export const UpdateWebhookBody = z
  .strictObject({
    url: HttpUrlSchema.optional(),
    events: EventsSchema.optional(),
    description: z.string().trim().max(500).nullable().optional(),
    enabled: z.boolean().optional().describe("true re-enables an endpoint that was disabled after failing."),
  })
  .refine((body) => Object.keys(body).length > 0, "send at least one field");
export type UpdateWebhookBody = z.infer<typeof UpdateWebhookBody>;

export const WebhookSchema = z
  .object({
    id: z.string(),
    projectId: z.string(),
    url: z.string(),
    description: z.string().nullable(),
    events: z.array(z.string()),
    enabled: z.boolean(),
    disabledReason: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: "Webhook" });

export const WebhookWithSecretSchema = WebhookSchema.extend({
  secret: z.string().describe("whsec_…: the signing secret, shown this once."),
}).meta({ id: "WebhookWithSecret" });

export const WebhookListSchema = paginated(WebhookSchema).meta({ id: "WebhookList" });

export const WebhookDeliverySchema = z
  .object({
    id: z.string(),
    messageId: z.string().describe("The webhook-id header: the same for every attempt of one message."),
    event: z.string(),
    attempt: z.number().int(),
    statusCode: z.number().int().nullable(),
    error: z.string().nullable(),
    durationMs: z.number().int(),
    createdAt: z.string(),
    requestBody: z.string().nullable().describe("What was sent; kept for 7 days."),
    responseBody: z.string().nullable().describe("The receiver's answer, first 1 KiB."),
  })
  .meta({ id: "WebhookDelivery" });

export const WebhookDeliveryListSchema = paginated(WebhookDeliverySchema).meta({ id: "WebhookDeliveryList" });

export const QueuedMessageSchema = z
  .object({ messageId: z.string(), event: z.string(), status: z.literal("queued") })
  .meta({ id: "QueuedWebhookMessage" });
