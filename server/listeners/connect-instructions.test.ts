// What the Connect dialog tells a person to run: each case is a listener address, a connection name and an
// email, and the psql command and URI that must come out (no password in either).
import { describe, expect, it } from "vitest";
import { connectInstructions, shellQuote } from "./connect-instructions";

describe("the Connect dialog's command and URI", () => {
  it.each([
    {
      listen: { host: "0.0.0.0", port: 6432 },
      publicUrl: "https://portcullis.example.com",
      connection: "shop",
      email: "ana@example.com",
      uri: "postgresql://ana%40example.com@portcullis.example.com:6432/shop?sslmode=require",
    },
    {
      listen: { host: "10.0.0.5", port: 5433 },
      publicUrl: "https://portcullis.example.com",
      connection: "sales eu",
      email: "o'neil+db@example.com",
      uri: "postgresql://o'neil%2Bdb%40example.com@10.0.0.5:5433/sales%20eu?sslmode=require",
    },
    {
      listen: { host: "::1", port: 6432 },
      publicUrl: "http://localhost:3000",
      connection: "shop",
      email: "ana@example.com",
      uri: "postgresql://ana%40example.com@[::1]:6432/shop?sslmode=require",
    },
  ])("connects to $listen.host:$listen.port as $email to $connection with sslmode=require", (c) => {
    const got = connectInstructions({
      config: c.listen,
      publicUrl: c.publicUrl,
      connectionName: c.connection,
      email: c.email,
    });
    expect(got.uri).toBe(c.uri);
    expect(got.psql).toBe(`psql ${shellQuote(c.uri)}`);
    expect(got.user).toBe(c.email);
    expect(got.dbname).toBe(c.connection);
  });

  it("quotes for a shell so a quote in a name cannot end the argument", () => {
    expect(shellQuote("a'b; rm -rf ~")).toBe(`'a'\\''b; rm -rf ~'`);
  });
});
