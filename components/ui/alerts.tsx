/** A form's outcome: the server's error message (announced as an alert) and a notice of what was done. */
export function Alerts({ error, notice }: { error?: string | null; notice?: string | null }) {
  return (
    <>
      {error && (
        <p className="alert error" role="alert">
          {error}
        </p>
      )}
      {notice && (
        <p className="alert ok" role="status">
          {notice}
        </p>
      )}
    </>
  );
}
