"use client";

import { useEffect } from "react";

const CARD = "article[data-review-id]";

/**
 * Keyboard use of the inbox: j / k move between requests, and on a request (the card itself focused, not its
 * comment field) a goes to Approve, d to Deny (Enter then decides: one stray key never runs a statement), c to the
 * comment; Escape in the comment goes back to the card. Keys with Ctrl, Alt or Meta are left to the browser.
 */
export function InboxKeys() {
  useEffect(() => {
    function onKey(e: KeyboardEvent) {
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      const target = e.target instanceof HTMLElement ? e.target : null;
      const card = target?.closest<HTMLElement>(CARD) ?? null;
      const isTyping =
        target instanceof HTMLInputElement ||
        target instanceof HTMLTextAreaElement ||
        target instanceof HTMLSelectElement ||
        target?.isContentEditable === true;
      if (isTyping) {
        if (e.key === "Escape" && card) {
          e.preventDefault();
          card.focus();
        }
        return;
      }
      if (e.key === "j" || e.key === "k") {
        const cards = [...document.querySelectorAll<HTMLElement>(CARD)];
        if (cards.length === 0) return;
        const at = card ? cards.indexOf(card) : -1;
        const next = e.key === "j" ? Math.min(cards.length - 1, at + 1) : Math.max(0, at - 1);
        e.preventDefault();
        cards[next]?.focus();
        cards[next]?.scrollIntoView({ block: "nearest" });
        return;
      }
      if (!card || target !== card) return;
      // The card's controls name their own keys (aria-keyshortcuts, first key): the card decides which exist.
      const control = [
        ...card.querySelectorAll<HTMLButtonElement | HTMLInputElement>("[aria-keyshortcuts]"),
      ].find((el) => el.getAttribute("aria-keyshortcuts")?.split(" ")[0] === e.key);
      if (!control || control.disabled) return;
      e.preventDefault();
      control.focus();
    }
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, []);
  return null;
}
