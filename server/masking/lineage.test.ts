// Reading lineage out of plans as PostgreSQL 15 prints them (EXPLAIN (VERBOSE, COSTS OFF, FORMAT JSON), trimmed
// to the fields lineage reads). The end-to-end table of extraction attempts on a real target is in
// server/lineage.int.test.ts; this checks the reader's own rules, one per row.
import { describe, expect, it } from "vitest";
import { type LineageCatalog, lineageFromPlan, type PlanNode, planReferences } from "./lineage";
import { scanExpression, withoutRevealingNothing } from "./lineage-expression";

const catalog: LineageCatalog = {
  relations: new Map([
    ["public.employees", { kind: "r", columns: ["id", "name", "salary", "diagnosis"] }],
    ["public.depts", { kind: "r", columns: ["id", "title"] }],
    [
      "public.emp_m",
      {
        kind: "m",
        columns: ["id", "s"],
        derived: [
          { sources: new Set(["public.employees.id"]) },
          { sources: new Set(["public.employees.salary"]) },
        ],
      },
    ],
  ]),
  ownFunctions: new Set(["opaque_pay"]),
};
const rules = [
  { pattern: "employees.salary", type: "salary" },
  { pattern: "employees.diagnosis", type: "health" },
];

const scan = (alias: string, output: string[], relation = "employees"): PlanNode => ({
  "Node Type": "Seq Scan",
  "Relation Name": relation,
  Schema: "public",
  Alias: alias,
  Output: output,
});

function lineage(plan: PlanNode) {
  return lineageFromPlan(plan, catalog, rules, "hr");
}

describe("lineage of output columns", () => {
  const cases: [name: string, plan: PlanNode, maskAs: (string | undefined)[]][] = [
    ["a bare column of the only relation", scan("employees", ["salary", "name"]), ["salary", undefined]],
    ["an expression", scan("e", ["(e.salary + 1)", "upper(e.diagnosis)"]), ["salary", "health"]],
    ["a cast", scan("e", ["(e.salary)::text"]), ["salary"]],
    ["a whole row (labelled by its first masked column)", scan("e", ["e.*"]), ["health"]],
    ["row_to_json of a row", scan("e", ["row_to_json(e.*)"]), ["health"]],
    ["count reveals nothing", scan("e", ["count(e.salary)", "count(*)"]), [undefined, undefined]],
    [
      "IS NULL reveals nothing",
      scan("e", ["(e.salary IS NULL)", "(e.diagnosis IS NOT NULL)"]),
      [undefined, undefined],
    ],
    ["a filtered count reads the value", scan("e", ["count(*) FILTER (WHERE (e.salary > 5))"]), ["salary"]],
    ["a string literal is not a column", scan("e", ["'salary'::text", "e.name"]), [undefined, undefined]],
    ["a type named like a column is not one", scan("e", ["(e.id)::salary"]), [undefined]],
    ["a system column holds no value", scan("e", ["e.ctid"]), [undefined]],
    ["the target's own function is untraced", scan("e", ["opaque_pay(e.id)"]), ["untraced"]],
    [
      "a built-in that runs SQL is untraced",
      scan("e", ["query_to_xml('select 1'::text, true, false, ''::text)"]),
      ["untraced"],
    ],
    ["an unknown reference is untraced", scan("e", ["x.salary"]), ["untraced"]],
    [
      "a materialized view's column derives from its definition",
      scan("emp_m", ["emp_m.s", "emp_m.id"], "emp_m"),
      ["salary", undefined],
    ],
    [
      "set operations union their members, column by column",
      {
        "Node Type": "Append",
        Plans: [
          scan("employees", ["employees.salary", "employees.id"]),
          scan("employees_1", ["employees_1.id", "employees_1.name"]),
        ],
      },
      ["salary", undefined],
    ],
    [
      "an InitPlan's result through its parameter",
      {
        "Node Type": "Result",
        Output: ["$0", "1"],
        Plans: [
          {
            "Node Type": "Aggregate",
            "Parent Relationship": "InitPlan",
            "Subplan Name": "InitPlan 1 (returns $0)",
            Output: ["max(employees.salary)"],
            Plans: [scan("employees", ["employees.salary"])],
          },
        ],
      },
      ["salary", undefined],
    ],
    [
      "a recursive CTE through its work table",
      {
        "Node Type": "CTE Scan",
        "CTE Name": "r",
        Alias: "r",
        Output: ["r.s"],
        Plans: [
          {
            "Node Type": "Recursive Union",
            "Parent Relationship": "InitPlan",
            "Subplan Name": "CTE r",
            Plans: [
              scan("employees", ["1", "employees.salary"]),
              {
                "Node Type": "WorkTable Scan",
                "CTE Name": "r",
                Alias: "r_1",
                Output: ["(r_1.n + 1)", "r_1.s"],
              },
            ],
          },
        ],
      },
      ["salary"],
    ],
    [
      "a function scan of the target's own function is untraced",
      {
        "Node Type": "Function Scan",
        "Function Name": "all_rows",
        Schema: "public",
        Alias: "f",
        Output: ["f.id"],
      },
      ["untraced"],
    ],
    [
      "a built-in function scan derives from its arguments",
      {
        "Node Type": "Function Scan",
        "Function Name": "unnest",
        Schema: "pg_catalog",
        Alias: "x",
        "Function Call": "unnest(ARRAY[e.diagnosis])",
        Output: ["x.x"],
        Plans: [],
      },
      ["untraced"], // e is not a scan of this plan: fail closed
    ],
  ];
  it.each(cases)("%s", (_name, plan, maskAs) => {
    expect(lineage(plan).columns.map((c) => c.maskAs)).toEqual(maskAs);
  });

  it("reads a client's bound parameter as a value of no column, and only a parameter it binds", () => {
    const plan = scan("e", ["$1", "(e.salary + $2)", "$3"]);
    expect(lineageFromPlan(plan, catalog, rules, "hr", 2).columns.map((c) => c.maskAs)).toEqual([
      undefined,
      "salary",
      "untraced",
    ]);
    // Without bound parameters a $n is a reference the gateway cannot trace: masked either way.
    expect(lineage(plan).columns.map((c) => c.maskAs)).toEqual(["untraced", "salary", "untraced"]);
  });

  it("names the masked source columns and says when a column is the source as it is", () => {
    const [plain, computed] = lineage(scan("e", ["e.salary", "(e.salary * 2)"])).columns;
    expect(plain).toEqual({ maskAs: "salary", sources: ["public.employees.salary"], plain: true });
    expect(computed).toEqual({ maskAs: "salary", sources: ["public.employees.salary"] });
  });

  it("keys the masked columns of JSON built from a table's rows, also under an upper node's parentheses", () => {
    for (const printed of ["row_to_json(e.*)", "(to_jsonb(e.*))", "json_agg(e.*)"]) {
      expect(lineage(scan("e", [printed])).columns[0]?.keys, printed).toEqual({
        salary: "salary",
        diagnosis: "health",
      });
    }
    expect(lineage(scan("e", ["json_agg(e.*) OVER (?)"])).columns[0]?.keys).toBeUndefined();
    expect(lineage(scan("e", ["json_build_object('s', e.salary)"])).columns[0]?.keys).toBeUndefined();
  });

  it("says why a column is untraced", () => {
    expect(lineage(scan("e", ["opaque_pay(e.id)"])).columns[0]?.unknown).toContain("opaque_pay");
  });
});

describe("lineage of conditions", () => {
  it.each([
    ["Filter", "(e.salary = 187345)", ["public.employees.salary"]],
    ["Sort Key", ["e.diagnosis"], ["public.employees.diagnosis"]],
    ["Hash Cond", "(e.salary = f.salary)", ["public.employees.salary"]],
    ["Group Key", ["e.name"], []],
    ["Filter", "(e.salary IS NOT NULL)", []],
  ] as [string, unknown, string[]][])("reads %s %j", (field, value, columns) => {
    const plan: PlanNode = { ...scan("e", ["e.id"]), [field]: value, Plans: [scan("f", ["f.salary"])] };
    expect(lineage(plan).predicates.map((p) => p.column)).toEqual(columns);
  });
});

describe("conditions an index scan does not print", () => {
  const withIndexes: LineageCatalog = {
    ...catalog,
    indexes: new Map([
      ["emp_salary_idx", [{ relation: "public.employees", keys: ["salary"], others: [] }]],
      ["emp_rich_idx", [{ relation: "public.employees", keys: ["id"], others: ["salary"] }]],
    ]),
  };
  const indexScan = (index: string, cond?: string): PlanNode => ({
    ...scan("e", ["e.id"]),
    "Node Type": "Index Scan",
    "Index Name": index,
    ...(cond && { "Index Cond": cond }),
  });
  it.each([
    ["an index read in its keys' order", indexScan("emp_salary_idx"), ["public.employees.salary"]],
    ["an index whose condition names its keys", indexScan("emp_salary_idx", "(e.salary IS NOT NULL)"), []],
    ["a partial index's predicate", indexScan("emp_rich_idx", "(e.id < 100)"), ["public.employees.salary"]],
    [
      "an index the catalog does not know, as any column of its table",
      indexScan("gone_idx"),
      ["public.employees.diagnosis", "public.employees.salary"],
    ],
  ] as [string, PlanNode, string[]][])("reads %s", (_name, plan, columns) => {
    expect(lineageFromPlan(plan, withIndexes, rules, "hr").predicates.map((p) => p.column)).toEqual(columns);
  });
});

describe("reading printed expressions", () => {
  it("skips literals, and marks calls, casts, parameters and subplans", () => {
    const tokens = scanExpression(
      "(upper(e.\"Odd Name\") || 'it''s e.salary' || E'a\\' e.x')::text = $1 AND (SubPlan 2)",
    );
    expect(tokens).toEqual([
      { kind: "name", parts: ["upper"], call: true, type: false },
      { kind: "name", parts: ["e", "Odd Name"], call: false, type: false },
      { kind: "name", parts: ["text"], call: false, type: true },
      { kind: "param", name: "$1" },
      { kind: "name", parts: ["AND"], call: false, type: false },
      { kind: "subplan", name: "SubPlan 2" },
    ]);
  });

  it("drops only what reveals nothing", () => {
    expect(withoutRevealingNothing("count(e.salary)")).toBe("");
    expect(withoutRevealingNothing("(count(e.salary) + e.salary)")).toBe("( + e.salary)");
    expect(withoutRevealingNothing("count(e.salary) FILTER (WHERE x)")).toContain("e.salary");
    expect(withoutRevealingNothing("count(DISTINCT e.salary)")).toContain("e.salary");
  });

  it("lists the relations and functions a plan mentions", () => {
    const refs = planReferences({ ...scan("e", ["opaque_pay(e.id)", "pg_catalog.upper(e.name)"]) });
    expect(refs).toEqual({
      relations: ["public.employees"],
      functions: ["opaque_pay", "upper"],
      indexes: [],
    });
  });
});
