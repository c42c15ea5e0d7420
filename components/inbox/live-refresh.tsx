"use client";

import { useRouter } from "next/navigation";
import { useEffect } from "react";

/** Re-renders the page when reviews change (pushed over the console's WebSocket), without a reload. */
export function LiveRefresh() {
  const router = useRouter();
  useEffect(() => {
    const off = onReviewsChanged(() => router.refresh());
    return off;
  }, [router]);
  return null;
}

type Listener = () => void;
const listeners = new Set<Listener>();
let socket: WebSocket | null = null;
let retry: ReturnType<typeof setTimeout> | undefined;

function connect() {
  const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/events`;
  socket = new WebSocket(url);
  socket.onmessage = (event) => {
    try {
      if ((JSON.parse(String(event.data)) as { type?: string }).type === "reviews-changed")
        for (const l of listeners) l();
    } catch {
      // not ours
    }
  };
  socket.onclose = () => {
    socket = null;
    if (listeners.size > 0) retry = setTimeout(connect, 2000);
  };
}

export function onReviewsChanged(listener: Listener): () => void {
  listeners.add(listener);
  if (!socket) connect();
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0) {
      clearTimeout(retry);
      socket?.close();
      socket = null;
    }
  };
}
