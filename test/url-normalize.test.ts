// One spelling per page: the rules in src/browser/url-normalize.ts, case by case.
import { describe, expect, it } from "vitest";
import { isSameOrigin, normalizeUrl, pathAndQuery } from "../src/browser/url-normalize";

describe("normalizeUrl", () => {
  const base = "https://shop.example.com/products/list?page=2";

  it.each([
    ["drops the fragment", "https://shop.example.com/about#team", "https://shop.example.com/about"],
    ["lowercases scheme and host, keeps the path's case", "HTTPS://Shop.Example.COM/About", "https://shop.example.com/About"],
    ["drops the default port", "https://shop.example.com:443/a", "https://shop.example.com/a"],
    ["drops port 80 on http", "http://shop.example.com:80/a", "http://shop.example.com/a"],
    ["keeps another port", "http://shop.example.com:8080/a", "http://shop.example.com:8080/a"],
    ["gives the root path a slash", "https://shop.example.com", "https://shop.example.com/"],
    ["keeps a trailing slash", "https://shop.example.com/docs/", "https://shop.example.com/docs/"],
    ["keeps no trailing slash", "https://shop.example.com/docs", "https://shop.example.com/docs"],
    ["drops an empty query", "https://shop.example.com/a?", "https://shop.example.com/a"],
    ["keeps the query's order", "https://shop.example.com/a?b=2&a=1", "https://shop.example.com/a?b=2&a=1"],
    ["upper-cases percent escapes", "https://shop.example.com/a%2fb?q=%c3%a9", "https://shop.example.com/a%2Fb?q=%C3%A9"],
    ["encodes spaces and non-ASCII", "https://shop.example.com/a b/é", "https://shop.example.com/a%20b/%C3%A9"],
    ["drops user and password", "https://user:secret@shop.example.com/a", "https://shop.example.com/a"],
    ["resolves dot segments", "https://shop.example.com/a/./b/../c", "https://shop.example.com/a/c"],
  ])("%s", (_, raw, expected) => {
    expect(normalizeUrl(raw)).toBe(expected);
  });

  it.each([
    ["a relative path", "item?id=3#top", "https://shop.example.com/products/item?id=3"],
    ["a root-relative path", "/cart", "https://shop.example.com/cart"],
    ["a parent path", "../about", "https://shop.example.com/about"],
    ["a query only", "?page=3", "https://shop.example.com/products/list?page=3"],
    ["a fragment only: the page itself", "#reviews", "https://shop.example.com/products/list?page=2"],
    ["a protocol-relative URL", "//cdn.example.com/x.js", "https://cdn.example.com/x.js"],
  ])("resolves %s against the page", (_, raw, expected) => {
    expect(normalizeUrl(raw, base)).toBe(expected);
  });

  it.each(["mailto:a@example.com", "tel:+1555", "javascript:void(0)", "data:text/html,hi", "ftp://example.com/file", "http://[bad"])(
    "ignores %s",
    (raw) => {
      expect(normalizeUrl(raw, base)).toBeNull();
    },
  );
});

describe("origins and paths", () => {
  it("compares scheme, host and port", () => {
    expect(isSameOrigin("https://shop.example.com/a", "https://shop.example.com")).toBe(true);
    expect(isSameOrigin("http://shop.example.com/a", "https://shop.example.com")).toBe(false);
    expect(isSameOrigin("https://shop.example.com:8443/a", "https://shop.example.com")).toBe(false);
    expect(isSameOrigin("https://www.shop.example.com/a", "https://shop.example.com")).toBe(false);
    expect(isSameOrigin("not a url", "https://shop.example.com")).toBe(false);
  });

  it("reads path and query", () => {
    expect(pathAndQuery("https://shop.example.com/a/b?c=1")).toBe("/a/b?c=1");
  });
});
