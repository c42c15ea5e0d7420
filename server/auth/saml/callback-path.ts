/**
 * Where a person lands after a SAML sign-in: the RelayState is chosen by whoever posts the answer (anyone, for
 * IdP-initiated sign-in), so only a plain path on this console is kept. Not responsible for the sign-in.
 */
import "server-only";

/**
 * Printable ASCII only (browsers drop tabs and newlines, so "/\t/evil.example" would become "//evil.example"),
 * one leading slash, not followed by another slash or a backslash (both mean "another host" to a browser).
 */
const CONSOLE_PATH = /^\/(?![/\\])[\x21-\x7e]*$/;

/** The path to land on, or "/" for anything that is not plainly a path of this console. */
export function safeCallbackPath(value: string | undefined | null): string {
  if (!value || value.length > 500 || !CONSOLE_PATH.test(value) || value.includes("\\")) return "/";
  return value;
}
