// The events of a run or a crawl, paged from D1 or live as Server-Sent Events: D1 is the record,
// the work's tracker pushes what happens while it lasts. Both kinds of work stream the same way.
import type { TrackedEvent } from "./tracker";

export const eventView = (e: { seq: number; type: string; data: Record<string, unknown>; createdAt: string }) => ({
  id: e.seq,
  type: e.type,
  data: e.data,
  createdAt: e.createdAt,
});

const encoder = new TextEncoder();
const sseFrame = (e: TrackedEvent) => encoder.encode(`id: ${e.seq}\nevent: ${e.type}\ndata: ${JSON.stringify(eventView(e))}\n\n`);

export type EventSource = {
  /** A description for the stream's opening comment: "run events". */
  label: string;
  /** The tracker's live stream (one JSON line per event), subscribed before D1 is read. */
  live: ReadableStream<Uint8Array>;
  /** Recorded events after a sequence number, in order. */
  after(seq: number): Promise<TrackedEvent[]>;
};

/**
 * Server-Sent Events: those after `lastEventId` from D1, then live ones until the work settles,
 * then anything recorded after the live stream closed. Subscribing before reading D1 means no
 * event falls between the two; sequence numbers drop the ones seen twice, and a gap in the live
 * stream (a publish that never arrived) is read from D1, where every event is recorded first.
 */
export function serverSentEvents(source: EventSource, lastEventId: number): ReadableStream<Uint8Array> {
  let sent = lastEventId;
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  const writer = writable.getWriter();
  const write = async (event: TrackedEvent) => {
    if (event.seq <= sent) return;
    await writer.write(sseFrame(event));
    sent = event.seq;
  };
  /** Everything D1 holds after the last event sent, page by page. */
  const catchUp = async () => {
    for (let rows = await source.after(sent); rows.length; rows = await source.after(sent)) for (const event of rows) await write(event);
  };
  const reader = source.live.getReader();
  (async () => {
    try {
      await writer.write(encoder.encode(`: ${source.label}\n\n`));
      await catchUp();
      let buffered = "";
      const decoder = new TextDecoder();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        buffered += decoder.decode(value, { stream: true });
        let newline: number;
        while ((newline = buffered.indexOf("\n")) >= 0) {
          const event = JSON.parse(buffered.slice(0, newline)) as TrackedEvent;
          buffered = buffered.slice(newline + 1);
          if (event.seq > sent + 1) await catchUp();
          else await write(event);
        }
      }
      await catchUp();
    } catch {
      // the client went away
    } finally {
      await reader.cancel().catch(() => {});
      await writer.close().catch(() => {});
    }
  })();
  return readable;
}

/** Reads Last-Event-ID: a missing header is 0 (from the start); anything but an event id is refused by the caller. */
export const lastEventIdOf = (header: string | undefined) => (header === undefined ? 0 : /^\d{1,12}$/.test(header) ? Number(header) : null);

export const SSE_HEADERS = { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store", "x-accel-buffering": "no" };
