import { describe, expect, it } from "vitest";
import { CATALOG_TTL_MS, type CatalogQuery, createTargetCatalog, DERIVED_MAX_KEY } from "./catalog";
import { classifySql, classifyStats } from "./classify-statement";
import { parseStats } from "./parser";

// The classification of an exact text is remembered by the catalog it was made with (catalogFor's, one per
// connection): these are the ways a remembered one could be stale, each tried against it.

/**
 * A target's catalog that answers from `functions` as they are when it is asked (its snapshot), after `gate` when
 * there is one; counts the questions about functions.
 */
function target(functions: Record<string, "i" | "s" | "v">) {
  const state = { functions, asked: 0, failing: false, gate: undefined as Promise<void> | undefined };
  const query: CatalogQuery = async (text, parameters) => {
    if (!text.includes("pg_proc")) return [];
    state.asked++;
    const snapshot = state.functions;
    if (state.gate) await state.gate;
    if (state.failing) throw new Error("connection refused");
    const names = (parameters[0] as string[] | undefined) ?? [];
    return names
      .filter((name) => snapshot[name] !== undefined)
      .map((name) => ({
        name,
        schema: "public",
        volatility: snapshot[name],
        language: "sql",
        trusted: true,
        definer: false,
      }));
  };
  return { state, query };
}

function clockAt(start: number) {
  const clock = { now: start };
  return { clock, now: () => clock.now };
}

describe("the classification remembered with the catalog's answers", () => {
  it("classifies a repeated text once: the second answer is neither parsed nor looked up again", async () => {
    const { state, query } = target({ order_total: "s" });
    const catalog = createTargetCatalog(query);
    const first = await classifySql("SELECT order_total(7)", { catalog });
    const parsed = parseStats.parsed;
    const remembered = classifyStats.remembered;
    const asked = state.asked;
    const again = await classifySql("SELECT order_total(7)", { catalog });
    expect(again).toEqual(first);
    expect(again.class).toBe("read");
    expect(classifyStats.remembered).toBe(remembered + 1);
    expect(parseStats.parsed).toBe(parsed);
    expect(state.asked).toBe(asked);
  });

  it("classifies a function redefined through the gateway by its new definition at once (the catalog is told to forget)", async () => {
    const { state, query } = target({ mood: "s" });
    const catalog = createTargetCatalog(query);
    expect((await classifySql("SELECT mood()", { catalog })).class).toBe("read");
    state.functions = { mood: "v" };
    catalog.forget();
    expect((await classifySql("SELECT mood()", { catalog })).class).toBe("write");
  });

  it("keeps a classification no longer than the oldest catalog answer it used, not from when it was made", async () => {
    const { state, query } = target({ mood: "s" });
    const { clock, now } = clockAt(0);
    const catalog = createTargetCatalog(query, { now });
    // The catalog's answer about mood() is asked at 0; a new text uses it from the cache at TTL - 1.
    expect((await classifySql("SELECT mood()", { catalog })).class).toBe("read");
    clock.now = CATALOG_TTL_MS - 1;
    expect((await classifySql("SELECT mood() + 1", { catalog })).class).toBe("read");
    // The function changes outside the gateway: seen once the answer about it expires, for both texts.
    state.functions = { mood: "v" };
    clock.now = CATALOG_TTL_MS;
    expect((await classifySql("SELECT mood() + 1", { catalog })).class).toBe("write");
    expect((await classifySql("SELECT mood()", { catalog })).class).toBe("write");
  });

  it("within the time to live, answers what the catalog's own cache would", async () => {
    const { state, query } = target({ mood: "s" });
    const { clock, now } = clockAt(0);
    const catalog = createTargetCatalog(query, { now });
    expect((await classifySql("SELECT mood()", { catalog })).class).toBe("read");
    state.functions = { mood: "v" };
    clock.now = CATALOG_TTL_MS - 1;
    // The catalog's cache still says stable (as it did before classifications were remembered).
    expect((await catalog.functions(["mood"])).get("mood")?.[0]?.volatility).toBe("s");
    expect((await classifySql("SELECT mood()", { catalog })).class).toBe("read");
  });

  it("does not remember a refusal because the catalog could not be read", async () => {
    const { state, query } = target({ mood: "s" });
    const catalog = createTargetCatalog(query);
    state.failing = true;
    const refused = await classifySql("SELECT mood()", { catalog });
    expect(refused.class).toBe("unparseable");
    state.failing = false;
    expect((await classifySql("SELECT mood()", { catalog })).class).toBe("read");
  });

  it("does not remember a classification made while the catalog was told to forget", async () => {
    const { state, query } = target({ mood: "s" });
    const catalog = createTargetCatalog(query);
    let open = () => {};
    state.gate = new Promise((resolve) => {
      open = resolve;
    });
    const during = classifySql("SELECT mood()", { catalog });
    while (state.asked === 0) await new Promise((resolve) => setImmediate(resolve));
    // The gateway runs DDL while the answer about mood() (asked before it) is on its way.
    state.functions = { mood: "v" };
    catalog.forget();
    state.gate = undefined;
    open();
    await during; // read or write, by which answer it used: either was true when asked
    expect((await classifySql("SELECT mood()", { catalog })).class).toBe("write");
  });

  it("keeps each connection's classification apart: the same text, two catalogs, two answers", async () => {
    const stable = createTargetCatalog(target({ mood: "s" }).query);
    const volatile = createTargetCatalog(target({ mood: "v" }).query);
    expect((await classifySql("SELECT mood()", { catalog: stable })).class).toBe("read");
    expect((await classifySql("SELECT mood()", { catalog: volatile })).class).toBe("write");
    expect((await classifySql("SELECT mood()", { catalog: stable })).class).toBe("read");
  });

  it("hands out a remembered classification that its callers cannot change", async () => {
    const catalog = createTargetCatalog(target({}).query);
    const first = await classifySql("SELECT 1", { catalog });
    const statement = first.statements[0];
    if (!statement) throw new Error("no statement");
    expect(() => {
      (first as { class: string }).class = "write";
    }).toThrow(TypeError);
    expect(() => statement.reasons.push("changed")).toThrow(TypeError);
    expect(() => {
      (statement as { class: string }).class = "write";
    }).toThrow(TypeError);
    const again = await classifySql("SELECT 1", { catalog });
    expect(again.statements[0]?.class).toBe("read");
    expect(again.statements[0]?.reasons).toEqual(first.statements[0]?.reasons);
  });

  it("classifies a text longer than the limit every time", async () => {
    const catalog = createTargetCatalog(target({ mood: "s" }).query);
    const long = `SELECT mood() /* ${"x".repeat(DERIVED_MAX_KEY)} */`;
    const remembered = classifyStats.remembered;
    await classifySql(long, { catalog });
    expect((await classifySql(long, { catalog })).class).toBe("read");
    expect(classifyStats.remembered).toBe(remembered);
  });
});
