"use client";

// What a run ended in, in words: the results (done), "waiting for approval" with a link to the review, the
// rules that blocked it, the target's error with where it points, or a cancel. Results completed before an
// error or a cancel are still shown below the message.
import Link from "next/link";
import { ResultTabs } from "./result-tabs";
import { ReviewWatcher } from "./review-watcher";
import type { BlockReason, RunOutcome, StatementResult } from "./types";

export interface ErrorLocation {
  line: number;
  column: number;
}

interface OutcomeViewProps {
  connection: string;
  outcome: RunOutcome;
  errorLocation: ErrorLocation | null;
  activeTab: number;
  onActivateTab: (index: number) => void;
}

function Reasons({ reasons }: { reasons: BlockReason[] }) {
  if (reasons.length === 0) return null;
  return (
    <ul className="reasons">
      {reasons.map((reason, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: reasons are positional
        <li key={i} className="reason">
          <div className="reason-head">
            <strong className="reason-rule">{reason.ruleName ?? "Policy"}</strong>
            {reason.class && <span className="tag reason-class">{reason.class}</span>}
            {reason.statementIndex !== undefined && (
              <span className="muted small">statement {reason.statementIndex + 1}</span>
            )}
          </div>
          {reason.message && <div className="reason-message">{reason.message}</div>}
          {reason.statement && <code className="reason-statement">{reason.statement}</code>}
        </li>
      ))}
    </ul>
  );
}

function EarlierResults({
  connection,
  results,
  activeTab,
  onActivateTab,
  what,
}: {
  connection: string;
  results: StatementResult[];
  activeTab: number;
  onActivateTab: (index: number) => void;
  what: string;
}) {
  if (results.length === 0) return null;
  return (
    <>
      <p className="muted small outcome-earlier">
        {results.length === 1 ? "1 statement" : `${results.length} statements`} completed before the {what}:
      </p>
      <ResultTabs connection={connection} results={results} active={activeTab} onActivate={onActivateTab} />
    </>
  );
}

export function OutcomeView({
  connection,
  outcome,
  errorLocation,
  activeTab,
  onActivateTab,
}: OutcomeViewProps) {
  switch (outcome.status) {
    case "done": {
      const decision = outcome.decision;
      const note = decision
        ? [decision.decision === "allow" ? "allowed" : decision.decision, decision.class]
            .filter(Boolean)
            .join(" · ")
        : undefined;
      if (outcome.results.length === 0) {
        return (
          <div className="outcome-message">
            <div className="alert ok">The statement ran and returned nothing to show.</div>
          </div>
        );
      }
      return (
        <ResultTabs
          connection={connection}
          results={outcome.results}
          active={activeTab}
          onActivate={onActivateTab}
          decisionNote={note}
          gatewayTiming={outcome.gatewayTiming}
        />
      );
    }
    case "pending_review":
      return (
        <div className="outcome-message">
          <div className="alert warn outcome-review" role="status">
            <strong className="outcome-title">Waiting for approval</strong>
            <p>
              The policy holds this for a person to review. It runs once, exactly as written, when an approver
              allows it.
            </p>
            <Reasons reasons={outcome.reasons} />
            {outcome.reviewId && (
              <p>
                <Link href={`/inbox/${encodeURIComponent(outcome.reviewId)}`}>Open the review request</Link>
              </p>
            )}
          </div>
          {outcome.reviewId && <ReviewWatcher reviewId={outcome.reviewId} connection={connection} />}
        </div>
      );
    case "blocked":
      return (
        <div className="outcome-message">
          <div className="alert error outcome-blocked" role="alert">
            {outcome.parseError ? (
              <>
                <strong className="outcome-title">Syntax error: nothing was run</strong>
                <div className="mono error-message">{outcome.parseError.message}</div>
                {errorLocation && (
                  <div className="small error-location">
                    At line {errorLocation.line}, column {errorLocation.column}: marked in the editor.
                  </div>
                )}
              </>
            ) : (
              <strong className="outcome-title">Blocked by policy: nothing was run</strong>
            )}
            {outcome.reasons.length === 0 && outcome.error && !outcome.parseError && (
              <p>{outcome.error.message}</p>
            )}
            <Reasons reasons={outcome.reasons} />
          </div>
        </div>
      );
    case "failed":
      return (
        <div className="outcome-message">
          <div className="alert error outcome-failed" role="alert">
            <strong className="outcome-title">
              The database returned an error
              {outcome.error.sqlState && (
                <span className="muted small"> (SQLSTATE {outcome.error.sqlState})</span>
              )}
            </strong>
            <div className="mono error-message">{outcome.error.message}</div>
            {outcome.error.detail && <div className="mono small error-detail">{outcome.error.detail}</div>}
            {outcome.error.hint && <div className="small error-hint">Hint: {outcome.error.hint}</div>}
            {errorLocation && (
              <div className="small error-location">
                At line {errorLocation.line}, column {errorLocation.column}: marked in the editor.
              </div>
            )}
          </div>
          <EarlierResults
            connection={connection}
            results={outcome.results}
            activeTab={activeTab}
            onActivateTab={onActivateTab}
            what="error"
          />
        </div>
      );
    case "cancelled":
      return (
        <div className="outcome-message">
          <div className="alert warn outcome-cancelled" role="status">
            <strong className="outcome-title">Cancelled</strong>
            <div className="mono">{outcome.message}</div>
          </div>
          <EarlierResults
            connection={connection}
            results={outcome.results}
            activeTab={activeTab}
            onActivateTab={onActivateTab}
            what="cancel"
          />
        </div>
      );
    case "error":
      return (
        <div className="outcome-message">
          <div className="alert error" role="alert">
            <strong className="outcome-title">The run did not go through</strong>
            <div>{outcome.error.message}</div>
          </div>
        </div>
      );
  }
}
