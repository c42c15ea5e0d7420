// The auditor's questions, answered from recorded sessions and reviews: who read a sensitive type or column on
// a connection since a date, which writes ran without an approval, which approvals a user gave.
import Link from "next/link";
import { ZodError } from "zod";
import { AccessTabs } from "@/components/access/access-tabs";
import { FilterField } from "@/components/ui/filter-field";
import { askQuestion, type QuestionAnswer } from "@/server/access-review";
import { requirePrincipal } from "@/server/auth";
import { GatewayError } from "@/server/errors";

export const metadata = { title: "Access questions" };

type SearchParams = Record<string, string | string[] | undefined>;

function QuestionForm({
  question,
  title,
  children,
}: {
  question: string;
  title: string;
  children: React.ReactNode;
}) {
  return (
    <form method="get" action="/access/questions" className="panel access-filters" aria-label={title}>
      <input type="hidden" name="question" value={question} />
      <strong style={{ gridColumn: "1 / -1" }}>{title}</strong>
      {children}
      <div className="btn-row">
        <button type="submit" className="btn primary">
          Ask
        </button>
      </div>
    </form>
  );
}

function Answer({ answer }: { answer: QuestionAnswer }) {
  return (
    <>
      <h2>{answer.title}</h2>
      {answer.rows.length === 0 ? (
        <div className="panel empty">
          <strong>Nothing recorded matches</strong>
          The recordings hold no such event for these parameters.
        </div>
      ) : (
        <table className="data matrix" aria-label="Answer">
          <thead>
            <tr>
              {answer.columns.map((c) => (
                <th key={c}>{c}</th>
              ))}
              <th>Session</th>
            </tr>
          </thead>
          <tbody>
            {answer.rows.map((row, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: answer rows have no identity of their own
              <tr key={i}>
                {row.cells.map((cell, j) => (
                  // biome-ignore lint/suspicious/noArrayIndexKey: cells are positional
                  <td key={j} className={j === row.cells.length - 1 ? "mono small" : "small"}>
                    {cell}
                  </td>
                ))}
                <td className="small">
                  {row.sessionId && <Link href={`/sessions/${row.sessionId}`}>open</Link>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {answer.rows.length >= answer.limit && (
        <p className="muted small">
          The first {answer.limit} answers are shown; narrow the question for more.
        </p>
      )}
    </>
  );
}

export default async function AccessQuestionsPage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  const principal = await requirePrincipal("audit:read");
  const raw = await searchParams;
  const params: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) {
    const first = Array.isArray(v) ? v[0] : v;
    if (first) params[k] = first;
  }
  let answer: QuestionAnswer | undefined;
  let problem: string | undefined;
  if (params.question) {
    try {
      answer = await askQuestion(principal, params);
    } catch (err) {
      if (err instanceof ZodError)
        problem = err.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
      else if (err instanceof GatewayError) problem = err.message;
      else throw err;
    }
  }
  const is = (q: string) => (params.question === q ? params : {});
  return (
    <>
      <h1>Access</h1>
      <AccessTabs current="/access/questions" isAuditor />
      <p className="lead">
        Answers from what the gateway recorded: masked types and column names of results, statement decisions
        and approvals. Values never appear here.
      </p>
      <QuestionForm
        question="touched"
        title="Who read a sensitive type or column on a connection since a date?"
      >
        <FilterField
          id="q1-field"
          label="Type or column"
          name="field"
          value={is("touched").field}
          placeholder="credit_card or card_number"
        />
        <FilterField
          id="q1-connection"
          label="Connection"
          name="connection"
          value={is("touched").connection}
        />
        <FilterField id="q1-since" label="Since" name="since" type="date" value={is("touched").since} />
      </QuestionForm>
      <QuestionForm question="unapproved-writes" title="Which writes ran without an approval?">
        <FilterField
          id="q2-connection"
          label="Connection (optional)"
          name="connection"
          value={is("unapproved-writes").connection}
        />
        <FilterField
          id="q2-since"
          label="Since (optional)"
          name="since"
          type="date"
          value={is("unapproved-writes").since}
        />
      </QuestionForm>
      <QuestionForm question="approvals-by" title="Which approvals did a user give?">
        <FilterField id="q3-user" label="User email" name="user" value={is("approvals-by").user} />
        <FilterField
          id="q3-since"
          label="Since (optional)"
          name="since"
          type="date"
          value={is("approvals-by").since}
        />
      </QuestionForm>
      {problem && <div className="alert error">That question does not work: {problem}</div>}
      {answer && <Answer answer={answer} />}
    </>
  );
}
