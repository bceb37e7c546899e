// The URL policy's host rules, which the browser applies to every request and page-guard.ts
// injects into pages and workers for their WebSockets.
import { describe, expect, it } from "vitest";
import { judgeUrl, urlPolicyFrom } from "../src/browser/url-policy";

const production = urlPolicyFrom("");
const allowed = (url: string, policy = production) => judgeUrl(policy, url).allowed;

describe("the URL policy", () => {
  it.each([
    "http://localhost/", "http://api.localhost/", "http://printer.local/", "http://db.internal/", "http://metadata.google.internal/",
    "http://metadata/", "http://instance-data/", "http://0.0.0.0/", "http://10.1.2.3/", "http://127.0.0.1:8787/", "http://2130706433/",
    "http://0x7f.1/", "http://100.64.0.1/", "http://169.254.169.254/latest/meta-data", "http://172.16.0.1/", "http://172.31.255.255/",
    "http://192.168.1.1/", "http://198.18.0.1/", "http://224.0.0.1/", "http://[::]/", "http://[::1]/", "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:8.8.8.8]/", "http://[fd00::1]/", "http://[fc00::1]/", "http://[fe80::1]/", "http://[feb0::1]/", "http://[ff02::1]/",
  ])("refuses %s", (url) => {
    expect(judgeUrl(production, url)).toEqual({ allowed: false, reason: expect.stringMatching(/is a private, loopback or metadata address$/) });
  });

  it.each(["https://example.com/", "http://8.8.8.8/", "http://172.32.0.1/", "http://100.128.0.1/", "http://192.169.0.1/", "http://[2001:db8::1]/", "http://local.example/"])(
    "allows %s",
    (url) => expect(allowed(url)).toBe(true),
  );

  it("refuses what is not http(s) or not a URL", () => {
    expect(judgeUrl(production, "ftp://example.com/")).toEqual({ allowed: false, reason: "ftp: URLs are not allowed" });
    expect(judgeUrl(production, "not a url")).toEqual({ allowed: false, reason: "not a valid URL" });
  });

  it("allows the private hosts a deployment names, and only those", () => {
    const dev = urlPolicyFrom(" 127.0.0.1, LocalHost ");
    expect(allowed("http://127.0.0.1:5173/", dev)).toBe(true);
    expect(allowed("http://localhost/", dev)).toBe(true);
    expect(allowed("http://10.0.0.1/", dev)).toBe(false);
  });
});
