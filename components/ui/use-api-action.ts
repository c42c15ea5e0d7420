"use client";

import { useRouter } from "next/navigation";
import { useCallback, useState } from "react";

/**
 * Runs a change through the API from an admin form or button: clears the last outcome, keeps `busy` while it
 * runs, refreshes the page's server data when it worked (with `done` as the notice), and keeps the server's
 * message as `error` when it did not. Resolves to whether it worked.
 */
export function useApiAction() {
  const router = useRouter();
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const run = useCallback(
    async (action: () => Promise<unknown>, done?: string): Promise<boolean> => {
      setError(null);
      setNotice(null);
      setBusy(true);
      try {
        await action();
        if (done) setNotice(done);
        router.refresh();
        return true;
      } catch (err) {
        setError((err as Error).message);
        return false;
      } finally {
        setBusy(false);
      }
    },
    [router],
  );
  return { error, notice, busy, run };
}
