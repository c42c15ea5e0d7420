"use client";

import { useRouter } from "next/navigation";
import { type FormEvent, useState } from "react";
import { Alerts } from "@/components/ui/alerts";
import { CheckboxList } from "@/components/ui/checkbox-list";
import { usersApi } from "@/lib/api";

interface UserRow {
  id: string;
  email: string;
  name: string;
  role: "admin" | "auditor" | "member";
  authSource: string;
  disabled: boolean;
  groups: string[];
  lastSeenAt: string | null;
}

export function CreateUserForm({ allGroups }: { allGroups: string[] }) {
  const router = useRouter();
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formEl = event.currentTarget;
    const form = new FormData(formEl);
    setBusy(true);
    setError(null);
    setNotice(null);
    try {
      await usersApi.create({
        email: String(form.get("email") ?? ""),
        name: String(form.get("name") ?? "") || undefined,
        password: String(form.get("password") ?? ""),
        role: String(form.get("role") ?? "member"),
        groups: form.getAll("groups").map(String),
      });
      setNotice(`Created ${String(form.get("email"))}.`);
      formEl.reset();
      router.refresh();
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="stack" onSubmit={onSubmit} aria-label="New user">
      <Alerts error={error} notice={notice} />
      <div className="grid-2">
        <div className="field">
          <label htmlFor="user-email">Email</label>
          <input id="user-email" name="email" type="email" required autoComplete="off" />
        </div>
        <div className="field">
          <label htmlFor="user-name">Name</label>
          <input id="user-name" name="name" type="text" autoComplete="off" />
        </div>
      </div>
      <div className="grid-2">
        <div className="field">
          <label htmlFor="user-password">Initial password</label>
          <input
            id="user-password"
            name="password"
            type="password"
            required
            minLength={10}
            autoComplete="new-password"
          />
          <span className="hint">At least 10 characters. Share it privately.</span>
        </div>
        <div className="field">
          <label htmlFor="user-role">Role</label>
          <select id="user-role" name="role" defaultValue="member">
            <option value="member">Member (access through groups)</option>
            <option value="admin">Admin</option>
          </select>
        </div>
      </div>
      {allGroups.length > 0 && (
        <fieldset>
          <legend>Groups</legend>
          <CheckboxList name="groups" options={allGroups} />
        </fieldset>
      )}
      <div>
        <button className="btn primary" type="submit" disabled={busy}>
          {busy ? "Creating…" : "Create user"}
        </button>
      </div>
    </form>
  );
}

export function UserTable({
  users,
  allGroups,
  selfId,
}: {
  users: UserRow[];
  allGroups: string[];
  selfId: string;
}) {
  const router = useRouter();
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [editing, setEditing] = useState<string | null>(null);

  async function update(id: string, body: Record<string, unknown>) {
    setError(null);
    try {
      await usersApi.update(id, body);
      setEditing(null);
      router.refresh();
    } catch (err) {
      setError((err as Error).message);
    }
  }

  async function signOutEverywhere(user: UserRow) {
    setError(null);
    setNotice(null);
    try {
      await usersApi.signOutEverywhere(user.id);
      setNotice(`Every session of ${user.email} has ended.`);
    } catch (err) {
      setError((err as Error).message);
    }
  }

  async function remove(user: UserRow) {
    if (!window.confirm(`Delete ${user.email}? Their access ends at once.`)) return;
    try {
      await usersApi.remove(user.id);
      router.refresh();
    } catch (err) {
      setError((err as Error).message);
    }
  }

  return (
    <>
      <Alerts error={error} notice={notice} />
      <table className="data">
        <thead>
          <tr>
            <th>User</th>
            <th>Role</th>
            <th>Groups</th>
            <th>Last seen</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {users.map((u) => (
            <tr key={u.id}>
              <td>
                <strong>{u.name}</strong>
                <div className="muted small">{u.email}</div>
                {(u.authSource === "oidc" || u.authSource === "saml") && (
                  <span className="tag">single sign-on</span>
                )}
                {u.disabled && <span className="tag off">disabled</span>}
              </td>
              <td>
                <span className={`tag ${u.role === "admin" ? "admin" : ""}`}>{u.role}</span>
              </td>
              <td>
                {editing === u.id ? (
                  <form
                    onSubmit={(e) => {
                      e.preventDefault();
                      void update(u.id, {
                        groups: new FormData(e.currentTarget).getAll("groups").map(String),
                      });
                    }}
                  >
                    <CheckboxList name="groups" options={allGroups} checked={u.groups} />
                    <div className="btn-row" style={{ marginTop: 6 }}>
                      <button className="btn small primary" type="submit">
                        Save groups
                      </button>
                      <button className="btn small" type="button" onClick={() => setEditing(null)}>
                        Cancel
                      </button>
                    </div>
                  </form>
                ) : u.groups.length === 0 ? (
                  <span className="muted small">none</span>
                ) : (
                  u.groups.map((g) => (
                    <span className="tag" key={g}>
                      {g}
                    </span>
                  ))
                )}
              </td>
              <td className="small muted">
                {u.lastSeenAt ? new Date(u.lastSeenAt).toLocaleString() : "never"}
              </td>
              <td>
                {u.id !== selfId && (
                  <div className="btn-row">
                    <button className="btn small" type="button" onClick={() => setEditing(u.id)}>
                      Groups
                    </button>
                    <button
                      className="btn small"
                      type="button"
                      onClick={() => update(u.id, { role: u.role === "admin" ? "member" : "admin" })}
                    >
                      {u.role === "admin" ? "Make member" : "Make admin"}
                    </button>
                    <button
                      className="btn small"
                      type="button"
                      onClick={() => update(u.id, { disabled: !u.disabled })}
                    >
                      {u.disabled ? "Enable" : "Disable"}
                    </button>
                    <button className="btn small" type="button" onClick={() => signOutEverywhere(u)}>
                      Sign out everywhere
                    </button>
                    <button className="btn small danger" type="button" onClick={() => remove(u)}>
                      Delete
                    </button>
                  </div>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
