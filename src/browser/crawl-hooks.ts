// How a crawl reports to its caller: the hooks are called one at a time, in the order the crawl
// calls them; events go out with the crawl's secrets redacted; a hook that throws fails the
// crawl, and no hook runs after the crawl has failed.
import { redactText } from "./crawl-credentials";
import type { BrokenLinkOfPage, CrawlEvent, CrawlHooks, PageRecord } from "./crawl-types";

/** What the reporter needs of the crawl. */
export type CrawlFailure = { failed(): boolean; fail(error: unknown): void };

export class CrawlReporter {
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly hooks: CrawlHooks,
    private readonly secrets: string[],
    private readonly crawl: CrawlFailure,
  ) {}

  redact(text: string): string {
    return redactText(text, this.secrets);
  }

  event(event: CrawlEvent): Promise<void> {
    const r = (text: string) => this.redact(text);
    const safe: CrawlEvent = { ...event, url: r(event.url), ...(event.detail === undefined ? {} : { detail: r(event.detail) }) };
    if (safe.type === "link_broken") safe.foundOn = r(safe.foundOn);
    return this.enqueue(() => this.hooks.onEvent(safe));
  }

  /** A page's record, as given (the crawl redacts a visited page's), then its page_visited or page_failed event. */
  page(record: PageRecord): Promise<void> {
    const ok = record.error === null && (record.status === null || record.status < 400);
    const detail = record.error ?? (record.status === null ? "" : `HTTP ${record.status} in ${record.loadMs} ms`);
    return this.enqueue(async () => {
      await this.hooks.onPage(record);
      await this.hooks.onEvent({ type: ok ? "page_visited" : "page_failed", url: record.url, detail });
    });
  }

  /** The complete broken links of a page recorded earlier, redacted. */
  brokenLinks(pageUrl: string, brokenLinks: BrokenLinkOfPage[]): Promise<void> {
    const links = brokenLinks.map((l) => ({ ...l, url: this.redact(l.url), reason: this.redact(l.reason) }));
    return this.enqueue(() => this.hooks.onBrokenLinks(this.redact(pageUrl), links));
  }

  /** Settles when every hook called so far has returned. */
  settled(): Promise<void> {
    return this.chain;
  }

  private enqueue(call: () => Promise<void>): Promise<void> {
    this.chain = this.chain.then(async () => {
      if (this.crawl.failed()) return;
      try {
        await call();
      } catch (error) {
        this.crawl.fail(error);
      }
    });
    return this.chain;
  }
}
