"use client";

import { useEffect, useState } from "react";
import { onReviewsChanged } from "./live-refresh";

/** The count of reviews waiting for me, kept current over the console's WebSocket. */
export function InboxBadge({ initial }: { initial: number }) {
  const [count, setCount] = useState(initial);
  useEffect(() => {
    const refresh = async () => {
      const response = await fetch("/api/v1/reviews?scope=inbox");
      if (response.ok) setCount(((await response.json()) as { reviews: unknown[] }).reviews.length);
    };
    return onReviewsChanged(() => void refresh());
  }, []);
  if (count === 0) return null;
  return (
    <span className="nav-badge" title={`${count} waiting for you`} data-testid="inbox-badge">
      {count}
    </span>
  );
}
