// SCRAM-SHA-256 on the server's side, against the worked example of RFC 7677 §3 (user "user", password
// "pencil"), and the messages a client may not send.
import { describe, expect, it } from "vitest";
import { scramVerifier } from "@/server/auth";
import { parseClientFinal, parseClientFirst, ScramError, serverFirst, verifyClientFinal } from "./scram";

const CLIENT_FIRST = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
const COMBINED = "rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
const SALT = "W22ZaJ0SNY7soEsUEjb6gQ==";
const CLIENT_FINAL = `c=biws,r=${COMBINED},p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=`;
const SERVER_FINAL = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

const keysOf = (password: string) => {
  const v = scramVerifier(password, SALT, 4096);
  return { storedKey: Buffer.from(v.storedKey, "base64"), serverKey: Buffer.from(v.serverKey, "base64") };
};

function exchange(candidates: { storedKey: Buffer; serverKey: Buffer }[], final = CLIENT_FINAL) {
  const first = parseClientFirst(CLIENT_FIRST);
  return verifyClientFinal({
    first,
    serverFirstMessage: serverFirst(COMBINED, SALT, 4096),
    combinedNonce: COMBINED,
    final: parseClientFinal(final),
    candidates,
  });
}

describe("SCRAM-SHA-256 (RFC 7677's example)", () => {
  it("accepts the client's proof for the verifier of its password and answers the RFC's server signature", () => {
    expect(exchange([keysOf("pencil")])?.serverFinal).toBe(SERVER_FINAL);
  });

  it("finds the matching verifier among several (a person's live credentials)", () => {
    const right = keysOf("pencil");
    expect(exchange([keysOf("pen"), right, keysOf("pencils")])?.candidate).toBe(right);
  });

  it("refuses the proof against any other password's verifier, and when there is none", () => {
    expect(exchange([keysOf("Pencil"), keysOf("pencil ")])).toBeUndefined();
    expect(exchange([])).toBeUndefined();
  });

  it("refuses a replayed final message with another nonce, and a changed channel binding", () => {
    const other = CLIENT_FINAL.replace("k0,p=", "k1,p=");
    expect(() => exchange([keysOf("pencil")], other)).toThrow(/nonce/);
    const bound = CLIENT_FINAL.replace("c=biws", `c=${Buffer.from("y,,").toString("base64")}`);
    expect(() => exchange([keysOf("pencil")], bound)).toThrow(/channel binding/);
  });

  it.each([
    ["channel binding asked for", "p=tls-server-end-point,,n=,r=abc"],
    ["an authorization identity", "n,a=admin,n=,r=abc"],
    ["no nonce", "n,,n="],
    ["a mandatory extension", "n,,n=,r=abc,m=x"],
    ["a nonce with a comma-free but unprintable byte", "n,,n=,r=ab\u0001c"],
    ["not SCRAM at all", "hello"],
  ])("refuses a client-first message with %s", (_what, text) => {
    expect(() => parseClientFirst(text)).toThrow(ScramError);
  });

  it.each([
    ["no proof", "c=biws,r=abc"],
    ["a short proof", "c=biws,r=abc,p=AAAA"],
    ["no channel binding", "r=abc,c=biws,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="],
  ])("refuses a client-final message with %s", (_what, text) => {
    expect(() => parseClientFinal(text)).toThrow(ScramError);
  });

  it("accepts what libpq sends: an empty user name and the y flag when the server offered no binding", () => {
    expect(parseClientFirst("y,,n=,r=abc")).toEqual({ gs2Header: "y,,", bare: "n=,r=abc", nonce: "abc" });
  });
});
