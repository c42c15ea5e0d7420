"use client";
// Starts an access review campaign: scope (connections and/or groups), reviewers (a group, or each
// connection's owners), due date and the unused threshold. Opens the new campaign on success.

import { useRouter } from "next/navigation";
import { useState } from "react";
import { accessReviewsApi } from "@/lib/api";

function Picks({
  legend,
  values,
  picked,
  onChange,
}: {
  legend: string;
  values: string[];
  picked: string[];
  onChange: (next: string[]) => void;
}) {
  return (
    <fieldset className="field">
      <legend>{legend}</legend>
      <div className="checks">
        {values.map((v) => (
          <label key={v}>
            <input
              type="checkbox"
              checked={picked.includes(v)}
              onChange={(e) => onChange(e.target.checked ? [...picked, v] : picked.filter((p) => p !== v))}
            />{" "}
            {v}
          </label>
        ))}
      </div>
    </fieldset>
  );
}

export function CampaignForm({ groups, connections }: { groups: string[]; connections: string[] }) {
  const router = useRouter();
  const inTwoWeeks = new Date(Date.now() + 14 * 86_400_000).toISOString().slice(0, 10);
  const [name, setName] = useState("");
  const [scopeConnections, setScopeConnections] = useState<string[]>([]);
  const [scopeGroups, setScopeGroups] = useState<string[]>([]);
  const [reviewers, setReviewers] = useState<"group" | "owners">("group");
  const [reviewerGroup, setReviewerGroup] = useState("");
  const [dueAt, setDueAt] = useState(inTwoWeeks);
  const [unusedDays, setUnusedDays] = useState(30);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: React.FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const { campaign } = await accessReviewsApi.create({
        name,
        connections: scopeConnections,
        groups: scopeGroups,
        reviewers,
        ...(reviewers === "group" && { reviewerGroup }),
        dueAt: `${dueAt}T23:59:59Z`,
        unusedDays,
      });
      router.push(`/access/campaigns/${encodeURIComponent(campaign.id)}`);
    } catch (err) {
      setError((err as Error).message);
      setBusy(false);
    }
  }

  return (
    <form className="panel" aria-label="Start a review" onSubmit={submit}>
      <div className="grid-2">
        <div className="field">
          <label htmlFor="c-name">Name</label>
          <input
            id="c-name"
            required
            value={name}
            onChange={(e) => setName(e.target.value)}
            placeholder="Q4 2026 access review"
          />
        </div>
        <div className="field">
          <label htmlFor="c-due">Due</label>
          <input id="c-due" type="date" required value={dueAt} onChange={(e) => setDueAt(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="c-reviewers">Reviewers</label>
          <select
            id="c-reviewers"
            value={reviewers}
            onChange={(e) => setReviewers(e.target.value as "group" | "owners")}
          >
            <option value="group">a group reviews everything</option>
            <option value="owners">each connection's owners (else admins)</option>
          </select>
        </div>
        {reviewers === "group" && (
          <div className="field">
            <label htmlFor="c-reviewer-group">Reviewer group</label>
            <select
              id="c-reviewer-group"
              required
              value={reviewerGroup}
              onChange={(e) => setReviewerGroup(e.target.value)}
            >
              <option value="">choose…</option>
              {groups.map((g) => (
                <option key={g} value={g}>
                  {g}
                </option>
              ))}
            </select>
          </div>
        )}
        <div className="field">
          <label htmlFor="c-unused">Flag unused after (days)</label>
          <input
            id="c-unused"
            type="number"
            min={1}
            value={unusedDays}
            onChange={(e) => setUnusedDays(Number(e.target.value))}
          />
        </div>
      </div>
      <Picks
        legend="Connections (none: all)"
        values={connections}
        picked={scopeConnections}
        onChange={setScopeConnections}
      />
      <Picks legend="Groups (none: all)" values={groups} picked={scopeGroups} onChange={setScopeGroups} />
      {error && <div className="alert error">{error}</div>}
      <div className="btn-row">
        <button type="submit" className="btn primary" disabled={busy}>
          Start review
        </button>
      </div>
    </form>
  );
}
