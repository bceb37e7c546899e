// robots.txt as RFC 9309 reads it: group choice, longest match, wildcards, and what the fetch answered.
import { describe, expect, it } from "vitest";
import { parseRobots, robotsAllow, robotsFromFetch } from "../src/browser/robots";

const allows = (text: string, path: string, agent = "AegisBot") => robotsAllow(parseRobots(text), agent, path);

describe("robots.txt rules", () => {
  it("disallows by prefix and lets a longer Allow win", () => {
    const text = "User-agent: *\nDisallow: /private/\nAllow: /private/open\n";
    expect(allows(text, "/private/")).toBe(false);
    expect(allows(text, "/private/deeper?x=1")).toBe(false);
    expect(allows(text, "/private/open")).toBe(true);
    expect(allows(text, "/private")).toBe(true);
    expect(allows(text, "/public")).toBe(true);
  });

  it("lets Allow win a tie of equal length", () => {
    expect(allows("User-agent: *\nDisallow: /page\nAllow: /page\n", "/page")).toBe(true);
  });

  it("uses the group naming our product token instead of *, case-insensitively", () => {
    const text = "User-agent: *\nDisallow: /\n\nUser-agent: aegisbot\nDisallow: /admin\n";
    expect(allows(text, "/shop")).toBe(true);
    expect(allows(text, "/admin/users")).toBe(false);
    expect(allows(text, "/shop", "OtherBot")).toBe(false);
  });

  it("merges groups for the same agent and groups listing several agents", () => {
    const text = "User-agent: OtherBot\nUser-agent: AegisBot\nDisallow: /a\n\nUser-agent: AegisBot\nDisallow: /b\n";
    expect(allows(text, "/a")).toBe(false);
    expect(allows(text, "/b")).toBe(false);
    expect(allows(text, "/c")).toBe(true);
  });

  it("an empty group for our token allows everything although * disallows", () => {
    expect(allows("User-agent: *\nDisallow: /\nUser-agent: AegisBot\nDisallow:\n", "/anything")).toBe(true);
  });

  it("matches * wildcards and a $ end anchor", () => {
    const text = "User-agent: *\nDisallow: /*.pdf$\nDisallow: /search*q=\nAllow: /files/*.pdf$\n";
    expect(allows(text, "/docs/manual.pdf")).toBe(false);
    expect(allows(text, "/docs/manual.pdf?download=1")).toBe(true);
    expect(allows(text, "/files/manual.pdf")).toBe(true);
    expect(allows(text, "/search?lang=en&q=shoes")).toBe(false);
    expect(allows(text, "/search")).toBe(true);
  });

  it("treats regex characters in patterns literally", () => {
    expect(allows("User-agent: *\nDisallow: /a.b(c)+\n", "/a.b(c)+/x")).toBe(false);
    expect(allows("User-agent: *\nDisallow: /a.b(c)+\n", "/aXb(c)+/x")).toBe(true);
  });

  it("compares percent-encoding in one case and encodes non-ASCII patterns", () => {
    expect(allows("User-agent: *\nDisallow: /caf%c3%a9\n", "/caf%C3%A9/menu")).toBe(false);
    expect(allows("User-agent: *\nDisallow: /café\n", "/caf%C3%A9")).toBe(false);
  });

  it("reads past comments, unknown lines, CRLF and rules before any User-agent", () => {
    const text = "Disallow: /orphan\r\n# comment\r\nUser-agent: * # everyone\r\nCrawl-delay: 5\r\nDisallow: /tmp # scratch\r\nSitemap: https://x.example/s.xml\r\n";
    expect(allows(text, "/orphan")).toBe(true);
    expect(allows(text, "/tmp/x")).toBe(false);
  });

  it("always allows /robots.txt itself, and everything when no group applies", () => {
    expect(allows("User-agent: *\nDisallow: /\n", "/robots.txt")).toBe(true);
    expect(allows("User-agent: OtherBot\nDisallow: /\n", "/x")).toBe(true);
    expect(allows("", "/x")).toBe(true);
  });
});

describe("what fetching robots.txt answered", () => {
  it("parses 2xx, allows everything on 4xx, disallows everything on 5xx or no answer", () => {
    expect(robotsAllow(robotsFromFetch({ status: 200, text: "User-agent: *\nDisallow: /x" }), "AegisBot", "/x")).toBe(false);
    expect(robotsAllow(robotsFromFetch({ status: 404, text: "" }), "AegisBot", "/x")).toBe(true);
    expect(robotsAllow(robotsFromFetch({ status: 503, text: "" }), "AegisBot", "/x")).toBe(false);
    expect(robotsAllow(robotsFromFetch({ error: "ERR_CONNECTION_REFUSED" }), "AegisBot", "/x")).toBe(false);
  });
});
