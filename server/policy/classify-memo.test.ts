import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  CATALOG_TTL_MS,
  type CachedTargetCatalog,
  type CatalogQuery,
  createTargetCatalog,
  DERIVED_ENTRIES,
  DERIVED_MAX_KEY,
} from "./catalog";
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

/** As the pipeline asks: the connection's catalog, and its parse cache (a scope of its own per catalog here). */
const scopes = new WeakMap<object, string>();
function classify(text: string, catalog: CachedTargetCatalog) {
  const scope = scopes.get(catalog) ?? randomUUID();
  scopes.set(catalog, scope);
  return classifySql(text, { catalog, parseCacheScope: scope });
}

/** Classifies `text` until its classification is remembered (a text is remembered from its second time). */
async function remembered(text: string, catalog: CachedTargetCatalog) {
  await classify(text, catalog);
  await classify(text, catalog);
  const before = classifyStats.remembered;
  const answer = await classify(text, catalog);
  expect(classifyStats.remembered).toBe(before + 1);
  return answer;
}

function clockAt(start: number) {
  const clock = { now: start };
  return { clock, now: () => clock.now };
}

describe("the classification remembered with the catalog's answers", () => {
  it("classifies a repeated text once it is seen again: then neither parsed nor looked up again", async () => {
    const { state, query } = target({ order_total: "s" });
    const catalog = createTargetCatalog(query);
    const first = await classify("SELECT order_total(7)", catalog);
    await classify("SELECT order_total(7)", catalog);
    const parsed = parseStats.parsed;
    const asked = state.asked;
    const again = await remembered("SELECT order_total(7)", catalog);
    expect(again).toEqual(first);
    expect(again.class).toBe("read");
    expect(parseStats.parsed).toBe(parsed);
    expect(state.asked).toBe(asked);
  });

  it("does not remember a text seen once (a new literal each time fills no memory)", async () => {
    const catalog = createTargetCatalog(target({}).query);
    const before = classifyStats.remembered;
    for (let aid = 0; aid < 20; aid++) await classify(`SELECT ${aid}`, catalog);
    for (let aid = 20; aid < 40; aid++) await classify(`SELECT ${aid}`, catalog);
    expect(classifyStats.remembered).toBe(before);
  });

  it("classifies a function redefined through the gateway by its new definition at once (the catalog is told to forget)", async () => {
    const { state, query } = target({ mood: "s" });
    const catalog = createTargetCatalog(query);
    expect((await remembered("SELECT mood()", catalog)).class).toBe("read");
    state.functions = { mood: "v" };
    catalog.forget();
    expect((await classify("SELECT mood()", catalog)).class).toBe("write");
  });

  it("keeps a classification no longer than the oldest catalog answer it used, not from when it was made", async () => {
    const { state, query } = target({ mood: "s" });
    const { clock, now } = clockAt(0);
    const catalog = createTargetCatalog(query, { now });
    // The catalog's answer about mood() is asked at 0; a new text is remembered with it at TTL - 1.
    expect((await remembered("SELECT mood()", catalog)).class).toBe("read");
    clock.now = CATALOG_TTL_MS - 1;
    expect((await remembered("SELECT mood() + 1", catalog)).class).toBe("read");
    // The function changes outside the gateway: seen once the answer about it expires, for both texts.
    state.functions = { mood: "v" };
    clock.now = CATALOG_TTL_MS;
    expect((await classify("SELECT mood() + 1", catalog)).class).toBe("write");
    expect((await classify("SELECT mood()", catalog)).class).toBe("write");
  });

  it("within the time to live, answers what the catalog's own cache would", async () => {
    const { state, query } = target({ mood: "s" });
    const { clock, now } = clockAt(0);
    const catalog = createTargetCatalog(query, { now });
    expect((await remembered("SELECT mood()", catalog)).class).toBe("read");
    state.functions = { mood: "v" };
    clock.now = CATALOG_TTL_MS - 1;
    // The catalog's cache still says stable (as it did before classifications were remembered).
    expect((await catalog.functions(["mood"])).get("mood")?.[0]?.volatility).toBe("s");
    expect((await classify("SELECT mood()", catalog)).class).toBe("read");
  });

  it("does not remember a refusal because the catalog could not be read", async () => {
    const { state, query } = target({ mood: "s" });
    const catalog = createTargetCatalog(query);
    state.failing = true;
    for (let i = 0; i < 3; i++) expect((await classify("SELECT mood()", catalog)).class).toBe("unparseable");
    state.failing = false;
    expect((await classify("SELECT mood()", catalog)).class).toBe("read");
  });

  it("does not remember a classification made while the catalog was told to forget", async () => {
    const { state, query } = target({ mood: "s" });
    const catalog = createTargetCatalog(query);
    await classify("SELECT mood()", catalog); // seen once: the next one is remembered
    catalog.forget();
    let open = () => {};
    state.gate = new Promise((resolve) => {
      open = resolve;
    });
    const asked = state.asked;
    const during = classify("SELECT mood()", catalog);
    while (state.asked === asked) await new Promise((resolve) => setImmediate(resolve));
    // The gateway runs DDL while the answer about mood() (asked before it) is on its way.
    state.functions = { mood: "v" };
    catalog.forget();
    state.gate = undefined;
    open();
    await during; // read or write, by which answer it used: either was true when asked
    expect((await classify("SELECT mood()", catalog)).class).toBe("write");
  });

  it("keeps each connection's classification apart: the same text, two catalogs, two answers", async () => {
    const stable = createTargetCatalog(target({ mood: "s" }).query);
    const volatile = createTargetCatalog(target({ mood: "v" }).query);
    expect((await remembered("SELECT mood()", stable)).class).toBe("read");
    expect((await remembered("SELECT mood()", volatile)).class).toBe("write");
    expect((await classify("SELECT mood()", stable)).class).toBe("read");
  });

  it("hands out a remembered classification that its callers cannot change", async () => {
    const catalog = createTargetCatalog(target({}).query);
    const first = await remembered("SELECT 1", catalog);
    const statement = first.statements[0];
    if (!statement) throw new Error("no statement");
    expect(() => {
      (first as { class: string }).class = "write";
    }).toThrow(TypeError);
    expect(() => statement.reasons.push("changed")).toThrow(TypeError);
    expect(() => {
      (statement as { class: string }).class = "write";
    }).toThrow(TypeError);
    const again = await classify("SELECT 1", catalog);
    expect(again.class).toBe("read");
    expect(again.statements[0]?.reasons).toEqual(first.statements[0]?.reasons);
  });

  it("keeps at most DERIVED_ENTRIES texts per connection, the least recently used out", async () => {
    const catalog = createTargetCatalog(target({}).query);
    await remembered("SELECT 0", catalog);
    for (let n = 1; n <= DERIVED_ENTRIES; n++) {
      await classify(`SELECT ${n}`, catalog);
      await classify(`SELECT ${n}`, catalog);
    }
    const before = classifyStats.remembered;
    await classify(`SELECT ${DERIVED_ENTRIES}`, catalog); // the most recent one is still there
    expect(classifyStats.remembered).toBe(before + 1);
    await classify("SELECT 0", catalog); // the oldest one is not
    expect(classifyStats.remembered).toBe(before + 1);
  });

  it("classifies a text longer than the limit every time", async () => {
    const catalog = createTargetCatalog(target({ mood: "s" }).query);
    const long = `SELECT mood() /* ${"x".repeat(DERIVED_MAX_KEY)} */`;
    const before = classifyStats.remembered;
    for (let i = 0; i < 3; i++) expect((await classify(long, catalog)).class).toBe("read");
    expect(classifyStats.remembered).toBe(before);
  });
});
