import { describe, expect, it } from "vitest";
import { approversFor } from "./approvers";

const connection = { approvals: { approverGroups: ["dba"], approvalsRequired: 1 } };
const reason = (action: string, extra: Record<string, unknown> = {}) => ({ action, ruleName: "r", ...extra });

describe("approversFor", () => {
  it("uses the connection's approvers when no review rule names its own", () => {
    expect(approversFor([reason("review"), reason("allow")], connection)).toEqual({
      approverGroups: ["dba"],
      approvalsRequired: 1,
    });
  });

  it("uses the approvers a review rule names, and their count", () => {
    expect(
      approversFor([reason("review", { approverGroups: ["finance"], approvalsRequired: 2 })], connection),
    ).toEqual({ approverGroups: ["finance"], approvalsRequired: 2 });
  });

  it("lets any named group approve and asks for the highest count when several rules hold the input", () => {
    expect(
      approversFor(
        [
          reason("review", { approverGroups: ["finance"], approvalsRequired: 2 }),
          reason("review", { approverGroups: ["security", "finance"], approvalsRequired: 3 }),
        ],
        connection,
      ),
    ).toEqual({ approverGroups: ["finance", "security"], approvalsRequired: 3 });
  });

  it("ignores approvers carried by reasons that did not hold the input", () => {
    expect(approversFor([reason("allow", { approverGroups: ["x"], approvalsRequired: 4 })], {})).toEqual({
      approverGroups: [],
      approvalsRequired: 1,
    });
  });

  it("keeps a rule's count with the connection's groups, and clamps counts to 1..5", () => {
    expect(approversFor([reason("review", { approvalsRequired: 9 })], connection)).toEqual({
      approverGroups: ["dba"],
      approvalsRequired: 5,
    });
    expect(approversFor([], { approvals: { approvalsRequired: 0 } }).approvalsRequired).toBe(1);
  });
});
