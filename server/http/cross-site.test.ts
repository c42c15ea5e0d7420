import { describe, expect, it } from "vitest";
import { foreignOriginReason, refuseCrossSiteCookieRequest } from "./cross-site";

const CONSOLE = "https://portcullis.example.com";

describe("where a browser request comes from", () => {
  it.each([
    { name: "the console's own origin", headers: { origin: CONSOLE }, isForeign: false },
    { name: "another origin", headers: { origin: "https://evil.example" }, isForeign: true },
    { name: "a sibling on the same site", headers: { origin: "https://wiki.example.com" }, isForeign: true },
    {
      name: "the console's host over plain http",
      headers: { origin: "http://portcullis.example.com" },
      isForeign: true,
    },
    { name: "another port of the console's host", headers: { origin: `${CONSOLE}:8443` }, isForeign: true },
    { name: "an opaque origin", headers: { origin: "null" }, isForeign: true },
    {
      name: "no Origin, Sec-Fetch-Site same-origin",
      headers: { "sec-fetch-site": "same-origin" },
      isForeign: false,
    },
    {
      name: "no Origin, Sec-Fetch-Site same-site",
      headers: { "sec-fetch-site": "same-site" },
      isForeign: true,
    },
    {
      name: "no Origin, Sec-Fetch-Site cross-site",
      headers: { "sec-fetch-site": "cross-site" },
      isForeign: true,
    },
    {
      name: "no Origin, Sec-Fetch-Site none (typed in the address bar)",
      headers: { "sec-fetch-site": "none" },
      isForeign: true,
    },
    { name: "neither header: not a browser", headers: {}, isForeign: false },
  ])("$name", ({ headers, isForeign }) => {
    const reason = foreignOriginReason(new Headers(headers as Record<string, string>), CONSOLE);
    if (isForeign) expect(reason).toMatch(/cross-site requests are refused/);
    else expect(reason).toBeUndefined();
  });
});

describe("a signed-in change", () => {
  const request = (method: string, headers: Record<string, string>) =>
    new Request("http://localhost:3000/api/v1/x", { method, headers });

  it.each([
    { method: "GET", type: undefined, refused: undefined },
    { method: "POST", type: "application/json", refused: undefined },
    { method: "POST", type: "application/json; charset=utf-8", refused: undefined },
    { method: "POST", type: "application/merge-patch+json", refused: undefined },
    { method: "POST", type: undefined, refused: "unsupported_media_type" },
    { method: "POST", type: "text/plain", refused: "unsupported_media_type" },
    { method: "POST", type: "application/x-www-form-urlencoded", refused: "unsupported_media_type" },
    { method: "POST", type: "multipart/form-data; boundary=x", refused: "unsupported_media_type" },
    { method: "POST", type: "text/plain; a=application/json", refused: "unsupported_media_type" },
    { method: "DELETE", type: undefined, refused: undefined },
  ])("$method typed $type: $refused", ({ method, type, refused }) => {
    const attempt = () => refuseCrossSiteCookieRequest(request(method, type ? { "content-type": type } : {}));
    if (refused) expect(attempt).toThrow(expect.objectContaining({ code: refused }));
    else expect(attempt).not.toThrow();
  });
});
