import type { ReactNode } from "react";
import { ApiError } from "../api/client.ts";

/** Loading and error states of a query, the same way on every page. */
export function QueryState(props: { isPending: boolean; error: unknown; children?: ReactNode }) {
  if (props.error) return <ErrorAlert error={props.error} />;
  if (props.isPending)
    return (
      <p className="muted" aria-live="polite">
        Loading…
      </p>
    );
  return <>{props.children}</>;
}

export function ErrorAlert(props: { error: unknown }) {
  if (!props.error) return null;
  const message =
    props.error instanceof ApiError || props.error instanceof Error
      ? props.error.message
      : "Something went wrong.";
  return (
    <p className="alert alert-error" role="alert">
      {message}
    </p>
  );
}
