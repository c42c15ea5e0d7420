"use client";

import { useEffect, useState } from "react";
import { reviewsApi } from "@/lib/api";
import { onReviewsChanged } from "./live-refresh";

/** The count of reviews waiting for me, kept current over the console's WebSocket. */
export function InboxBadge({ initial }: { initial: number }) {
  const [count, setCount] = useState(initial);
  useEffect(() => {
    const refresh = async () => {
      setCount((await reviewsApi.inbox()).reviews.length);
    };
    return onReviewsChanged(() => void refresh().catch(() => {}));
  }, []);
  if (count === 0) return null;
  return (
    <span className="nav-badge" title={`${count} waiting for you`} data-testid="inbox-badge">
      {count}
    </span>
  );
}
