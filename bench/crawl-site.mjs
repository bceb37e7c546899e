// The site the crawl bench ("4." in bench/README.md) crawls: a generated, deterministic site of
// PAGES pages on 127.0.0.1 with a realistic weight per page.
//   - Pages form a tree (each page has up to 3 children, so the deepest pages are 5 levels below
//     the start page) plus cross links: every page links to the home page and the 3 section pages,
//     its parent, its children, its previous and next page on the same level and 2 further pages of
//     that level: 9 to 12 same-origin links, never to a deeper level than its children, so a
//     breadth-first crawl from "/" reaches all PAGES pages at depth 0 to 5.
//   - Each page: a title, h1/h2 headings, ~2.5 KB of text, one PNG of its own (noise, 20–60 KB,
//     does not compress), the shared stylesheet and script (Cache-Control: max-age, ETag), a link
//     with a fragment (same page), a link to another origin (never requested by either crawler),
//     no forms. The script only marks the current nav link: it adds no links.
// Nothing depends on time or Math.random: the same pages, links and bytes on every run.
import { createHash } from "node:crypto";
import { createServer } from "node:http";
import { deflateSync } from "node:zlib";

export const PAGES = 300;
const CHILDREN = 3;

const pathOf = (i) => (i === 0 ? "/" : `/docs/${sectionOf(i)}/page-${i}`);
/** The section (1–3) a page is under: the depth-1 ancestor's number. */
function sectionOf(i) {
  let n = i;
  while (n > 3) n = parentOf(n);
  return n === 0 ? "home" : `section-${n}`;
}
const parentOf = (i) => Math.floor((i - 1) / CHILDREN);
const childrenOf = (i, pages) => Array.from({ length: CHILDREN }, (_, k) => CHILDREN * i + 1 + k).filter((c) => c < pages);
function depthOf(i) {
  let d = 0;
  for (let n = i; n > 0; n = parentOf(n)) d++;
  return d;
}

/** The pages of one level, in order, for the same-level links. */
function levels(pages) {
  const byDepth = [];
  for (let i = 0; i < pages; i++) (byDepth[depthOf(i)] ??= []).push(i);
  return byDepth;
}

/** mulberry32: a small deterministic PRNG. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, "ascii");
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** A valid RGB PNG of width × height noise pixels: random bytes, so deflate cannot shrink it. */
function noisePng(width, height, seed) {
  const random = prng(seed);
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    raw[row] = 0; // filter: none
    for (let x = 1; x <= width * 3; x++) raw[row + x] = (random() * 256) | 0;
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8 bits, truecolour, deflate, no filter method, no interlace
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk("IHDR", ihdr), chunk("IDAT", deflateSync(raw)), chunk("IEND", Buffer.alloc(0))]);
}

const WORDS =
  "system page crawl render index static module browser signal render layout network cache request response header image script style anchor section chapter release version update guide reference overview detail example pattern service worker edge latency memory process thread queue token budget limit".split(
    " ",
  );
function paragraph(random, words) {
  const out = [];
  for (let w = 0; w < words; w++) out.push(WORDS[(random() * WORDS.length) | 0]);
  out[0] = out[0][0].toUpperCase() + out[0].slice(1);
  return `${out.join(" ")}.`;
}

const STYLESHEET = (() => {
  // ~9 KB of ordinary rules, as a small site's stylesheet would have.
  const rules = [
    "*,*::before,*::after{box-sizing:border-box}",
    "body{margin:0;font:16px/1.6 system-ui,sans-serif;color:#1d2330;background:#fafbfc}",
    "header.site{display:flex;gap:1rem;align-items:center;padding:.75rem 2rem;background:#0f3057;color:#fff}",
    "header.site a{color:#e7eef7;text-decoration:none}header.site a.current{font-weight:700;text-decoration:underline}",
    "main{max-width:64rem;margin:0 auto;padding:1.5rem 2rem;display:grid;grid-template-columns:3fr 1fr;gap:2rem}",
    "article h1{font-size:2rem;margin:.5rem 0 1rem}article h2{font-size:1.35rem;margin:1.5rem 0 .5rem}",
    "figure{margin:1rem 0}figure img{display:block;width:100%;height:auto;border-radius:4px}figcaption{font-size:.85rem;color:#5b6475}",
    "aside{font-size:.95rem}aside ul{list-style:none;padding:0}aside li{margin:.25rem 0}",
    "nav.crumbs{font-size:.85rem;color:#5b6475}nav.crumbs a{color:inherit}",
    "footer{border-top:1px solid #dde2ea;padding:1rem 2rem;color:#5b6475;font-size:.85rem}",
  ];
  for (let i = 0; i < 120; i++) rules.push(`.u-${i}{margin:${i % 7}px ${i % 5}px;padding:${i % 3}px;color:#${(0x203040 + i * 0x10101).toString(16).slice(-6)}}`);
  return rules.join("\n");
})();

const SCRIPT = `// Marks the current section in the header; adds nothing the crawlers would follow.
(function () {
  var here = location.pathname.split("/")[2] || "home";
  document.querySelectorAll("header.site a").forEach(function (a) {
    if (a.getAttribute("data-section") === here) a.classList.add("current");
  });
  var words = document.querySelector("article").textContent.split(/\\s+/).length;
  document.getElementById("reading").textContent = Math.max(1, Math.round(words / 200)) + " min read";
})();
`;

function etagOf(body) {
  return `"${createHash("sha1").update(body).digest("hex").slice(0, 16)}"`;
}

function buildSite(pages) {
  const byDepth = levels(pages);
  const html = new Map();
  const images = new Map();
  for (let i = 0; i < pages; i++) {
    const random = prng(1000 + i);
    const depth = depthOf(i);
    const level = byDepth[depth];
    const at = level.indexOf(i);
    const sameLevel = (offset) => level[(at + offset + level.length * 4) % level.length];
    const related = level.length > 3 ? [sameLevel(Math.ceil(level.length / 3)), sameLevel(-Math.ceil(level.length / 3))] : [];
    const neighbours = level.length > 1 ? [sameLevel(-1), sameLevel(1)] : [];
    const title = i === 0 ? "Home" : `Page ${i}: ${WORDS[i % WORDS.length]} ${WORDS[(i * 7) % WORDS.length]}`;
    const a = (j, text) => `<a href="${pathOf(j)}">${text ?? (j === 0 ? "Home" : `Page ${j}`)}</a>`;
    const crumbs = [];
    for (let n = i; n > 0; n = parentOf(n)) crumbs.unshift(n);
    const width = 200;
    const height = 32 + ((i * 37) % 69); // 32–100 rows: 19–60 KB
    images.set(`/img/page-${i}.png`, noisePng(width, height, 7000 + i));
    const sections = [];
    for (let s = 0; s < 3; s++) {
      sections.push(`<h2 id="part-${s + 1}">Part ${s + 1}: ${WORDS[(i + s * 11) % WORDS.length]}</h2>`);
      for (let p = 0; p < 2; p++) sections.push(`<p>${paragraph(random, 55 + ((i + p) % 25))}</p>`);
    }
    html.set(
      pathOf(i),
      `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<link rel="stylesheet" href="/assets/site.css">
<script src="/assets/site.js" defer></script>
</head><body>
<header class="site">${a(0, "Home")} ${[1, 2, 3].filter((s) => s < pages).map((s) => `<a href="${pathOf(s)}" data-section="section-${s}">Section ${s}</a>`).join(" ")}</header>
<main><article>
<nav class="crumbs">${a(0, "Home")}${crumbs.map((n) => ` › ${a(n)}`).join("")}</nav>
<h1>${title}</h1>
<p><a href="#part-2">Jump to part 2</a> · <span id="reading"></span></p>
<figure><img src="/img/page-${i}.png" width="${width * 4}" height="${height * 4}" alt="Figure of page ${i}"><figcaption>Figure ${i}</figcaption></figure>
${sections.join("\n")}
</article>
<aside><h2>Around this page</h2><ul>
${i > 0 ? `<li>Up: ${a(parentOf(i))}</li>` : ""}
${childrenOf(i, pages).map((c) => `<li>Child: ${a(c)}</li>`).join("\n")}
${neighbours.map((n) => `<li>Next to it: ${a(n)}</li>`).join("\n")}
${related.map((n) => `<li>Related: ${a(n)}</li>`).join("\n")}
<li>Elsewhere: <a href="https://example.com/reference/${i}">Reference</a></li>
</ul></aside></main>
<footer><p>Generated bench site · ${pages} pages</p></footer>
</body></html>
`,
    );
  }
  return { html, images, maxDepth: byDepth.length - 1 };
}

/**
 * Serves the site on 127.0.0.1 (port 0: any free port). `stats()` counts the requests served by
 * kind since the last `resetStats()`, so the bench can check that both crawlers fetched the same.
 */
export async function startCrawlSite({ port = 0, host = "127.0.0.1", pages = PAGES } = {}) {
  const site = buildSite(pages);
  const assets = new Map([
    ["/assets/site.css", { type: "text/css; charset=utf-8", body: Buffer.from(STYLESHEET) }],
    ["/assets/site.js", { type: "text/javascript; charset=utf-8", body: Buffer.from(SCRIPT) }],
  ]);
  for (const [path, body] of site.images) assets.set(path, { type: "image/png", body });
  for (const asset of assets.values()) asset.etag = etagOf(asset.body);
  let stats;
  const resetStats = () => (stats = { page: 0, image: 0, css: 0, js: 0, notModified: 0, other: 0, bytes: 0 });
  resetStats();

  const server = createServer((req, res) => {
    const path = new URL(req.url, "http://x").pathname;
    const page = site.html.get(path);
    if (page !== undefined) {
      stats.page++;
      const body = Buffer.from(page);
      stats.bytes += body.length;
      res.writeHead(200, { "content-type": "text/html; charset=utf-8", "content-length": body.length, "cache-control": "no-cache" });
      return res.end(body);
    }
    const asset = assets.get(path);
    if (asset) {
      stats[path.endsWith(".css") ? "css" : path.endsWith(".js") ? "js" : "image"]++;
      const headers = { "cache-control": "public, max-age=86400", etag: asset.etag };
      if (req.headers["if-none-match"] === asset.etag) {
        stats.notModified++;
        res.writeHead(304, headers);
        return res.end();
      }
      stats.bytes += asset.body.length;
      res.writeHead(200, { ...headers, "content-type": asset.type, "content-length": asset.body.length });
      return res.end(asset.body);
    }
    stats.other++;
    res.writeHead(404, { "content-type": "text/plain" });
    res.end("not found");
  });
  server.keepAliveTimeout = 30_000;
  await new Promise((resolve) => server.listen(port, host, resolve));
  const origin = `http://${host}:${server.address().port}`;
  const imageBytes = [...site.images.values()].map((b) => b.length);
  const pageBytes = [...site.html.values()].map((h) => Buffer.byteLength(h));
  return {
    origin,
    pages,
    maxDepth: site.maxDepth,
    weight: {
      htmlBytesAvg: Math.round(pageBytes.reduce((s, b) => s + b, 0) / pages),
      imageBytesMin: Math.min(...imageBytes),
      imageBytesMax: Math.max(...imageBytes),
      imageBytesAvg: Math.round(imageBytes.reduce((s, b) => s + b, 0) / pages),
      cssBytes: assets.get("/assets/site.css").body.length,
      jsBytes: assets.get("/assets/site.js").body.length,
    },
    stats: () => ({ ...stats }),
    resetStats,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

// `node bench/crawl-site.mjs [port]`: serve it to look at.
if (import.meta.url === `file://${process.argv[1]}`) {
  const site = await startCrawlSite({ port: Number(process.argv[2] ?? 0) });
  console.log(`${site.origin}  (${site.pages} pages, depth 0–${site.maxDepth})`, site.weight);
}
