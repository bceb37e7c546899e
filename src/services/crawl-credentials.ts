// A crawl's credential sets: sealed with the crawl's id as associated data, so a sealed set cannot
// be moved to another crawl; opened only by the executor; shaped as the crawler takes them.
import type { Credential } from "../schemas/crawls";
import type { CrawlCredential } from "../browser/crawler";

export const credentialAad = (crawlId: string, position: number) => `crawl-credential:${crawlId}:${position}`;

/** Seed 003's credential shapes, as the crawler takes them. */
export function toCrawlerCredentials(credential: Credential, baseUrl: string): CrawlCredential[] {
  switch (credential.credential_type) {
    case "username_password":
      return [{ type: "username_password", login_url: credential.login_url ?? baseUrl, username: credential.username, password: credential.password }];
    case "bearer_token":
      return [{ type: "bearer_token", token: credential.token, header_name: credential.header_name }];
    case "cookie":
      return parseCookieString(credential.cookie_string).map(({ name, value }) => ({ type: "cookie" as const, name, value }));
    case "custom_headers":
      return [{ type: "custom_headers", headers: Object.fromEntries(credential.headers.map((h) => [h.name, h.value])) }];
  }
}

/** "a=1; b=2" → pairs; null when any part is not a plain cookie pair. */
export function parseCookieString(text: string): { name: string; value: string }[] {
  return text
    .split(";")
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const at = part.indexOf("=");
      return { name: part.slice(0, at).trim(), value: part.slice(at + 1).trim() };
    });
}
