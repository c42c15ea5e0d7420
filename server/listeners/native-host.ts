/**
 * What a native client is given (NativeClientOptions) and what its parts (the extended protocol, COPY) may ask
 * of it (NativeHost): its options, its transaction status, whether it is closed, running one input through the
 * pipeline, ending it, and the settings the target changed. Types only. Not responsible for any behaviour: the
 * client (native-client.ts) implements them.
 */
import "server-only";
import type { Principal } from "@/server/auth";
import type { ConnectionView } from "@/server/connections";
import type { ResultColumn, ResultSink, SqlOutcome } from "@/server/pipeline";
import type { PinnedSession } from "@/server/targets/postgres";
import type { TransactionStatus } from "./wire";

export interface NativeClientOptions {
  principal: Principal;
  /**
   * The principal as it is now (from the client's token, through server/auth's cache, cleared on every change):
   * asked before each query, so a removed group, a revoked token or a disabled account applies to the next
   * statement of a connection already open. null ends the connection.
   */
  identify: () => Promise<Principal | null>;
  connection: ConnectionView;
  sessionId: string;
  target: PinnedSession;
  publicUrl: string;
  send: (bytes: Buffer) => void;
  /**
   * Resolves once the client's socket has taken what was sent (at once when its buffer is below its mark, else
   * at its drain), or it closed: a streamed result waits on it between batches.
   */
  writable: () => Promise<void>;
  /** closes the client's socket */
  end: () => void;
  /** a client that sends nothing for this long is closed; undefined: never */
  idleTimeoutMs?: number;
}

/** The client as its parts see it. */
export interface NativeHost {
  readonly o: NativeClientOptions;
  /** the transaction status ReadyForQuery reports (a failed Parse in a transaction sets "E") */
  status: TransactionStatus;
  readonly closed: boolean;
  /**
   * One input through the pipeline, as this client's principal as it is now. Returns the outcome, or undefined
   * when the gateway refused it (its ErrorResponse is in `out`). Follows the transaction status.
   */
  run(
    text: string,
    parameters: (string | null)[] | undefined,
    out: Buffer[],
    stream?: ResultSink<ResultColumn>,
  ): Promise<SqlOutcome | undefined>;
  /**
   * The principal as it is now, or undefined when it is no longer this client's (the client is terminated then:
   * FATAL 28000).
   */
  samePrincipal(): Promise<Principal | undefined>;
  /** Ends the client from the gateway's side: a FATAL ErrorResponse with this code and message, then closed. */
  terminate(code: string, message: string): void;
  /** ParameterStatus of each setting the target reported changed since the last call. */
  changedParameters(): Buffer[];
}
