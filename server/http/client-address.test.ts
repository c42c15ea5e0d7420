import type { IncomingMessage } from "node:http";
import { describe, expect, it } from "vitest";
import { CLIENT_ADDRESS_HEADER, clientAddressOf, stampClientAddress } from "./client-address";

function request(peer: string, headers: Record<string, string | string[]> = {}): IncomingMessage {
  return { socket: { remoteAddress: peer }, headers: { ...headers } } as unknown as IncomingMessage;
}

describe("the client's address", () => {
  it.each([
    {
      name: "no proxy trusted: the peer, whatever X-Forwarded-For claims",
      hops: 0,
      xff: "1.2.3.4",
      want: "10.0.0.9",
    },
    { name: "one proxy: the address it appended", hops: 1, xff: "6.6.6.6, 203.0.113.5", want: "203.0.113.5" },
    { name: "one proxy, no header: the peer", hops: 1, xff: undefined, want: "10.0.0.9" },
    {
      name: "two proxies: the address the first one appended",
      hops: 2,
      xff: "6.6.6.6, 203.0.113.5, 10.0.0.8",
      want: "203.0.113.5",
    },
    {
      name: "more hops trusted than sent: the first entry",
      hops: 3,
      xff: "203.0.113.5",
      want: "203.0.113.5",
    },
  ])("$name", ({ hops, xff, want }) => {
    const req = request("10.0.0.9", xff === undefined ? {} : { "x-forwarded-for": xff });
    expect(clientAddressOf(req, hops)).toBe(want);
  });

  it("replaces a client-address header the client sent itself", () => {
    const req = request("10.0.0.9", { [CLIENT_ADDRESS_HEADER]: "127.0.0.1" });
    stampClientAddress(req, 0);
    expect(req.headers[CLIENT_ADDRESS_HEADER]).toBe("10.0.0.9");
  });
});
