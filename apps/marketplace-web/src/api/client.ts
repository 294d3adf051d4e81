import type { ApiErrorBody, ErrorCode } from "@amp/contract";

/**
 * Where the marketplace API lives. Empty in the default same-origin setup (the
 * marketplace serves this app); the marketplace's absolute URL when the app is
 * served from another origin (built with `VITE_MARKETPLACE_URL`).
 */
export const API_BASE: string = (import.meta.env.VITE_MARKETPLACE_URL as string | undefined) ?? "";

/** A failed API call: the contract's error envelope, typed by its closed `code`. */
export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: Record<string, unknown> | undefined;
  readonly requestId: string | undefined;
  constructor(status: number, body: ApiErrorBody | null, requestId?: string) {
    super(body?.message ?? `Request failed (${status}).`);
    this.name = "ApiError";
    this.status = status;
    this.code = body?.code ?? (status >= 500 ? "INTERNAL_ERROR" : "BAD_REQUEST");
    this.details = body?.details;
    this.requestId = requestId;
  }
}

interface Envelope<T> {
  requestId?: string;
  status: "success" | "error";
  data: T;
  error: ApiErrorBody | null;
}

/**
 * Calls a marketplace JSON route with the cookie session and unwraps the
 * envelope. Cookies ride along cross-origin too (`credentials: "include"`;
 * the marketplace answers CORS with credentials for the configured UI origin).
 */
export async function api<T>(
  path: string,
  init: { method?: "GET" | "POST" | "PUT" | "PATCH" | "DELETE"; body?: unknown; signal?: AbortSignal } = {},
): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (init.body !== undefined) headers["content-type"] = "application/json";
  let response: Response;
  try {
    response = await fetch(`${API_BASE}${path}`, {
      method: init.method ?? "GET",
      headers,
      credentials: "include",
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      signal: init.signal,
    });
  } catch (error) {
    if ((error as Error).name === "AbortError") throw error;
    throw new ApiError(503, {
      code: "SERVICE_UNAVAILABLE",
      message: "The marketplace could not be reached. Check your connection and try again.",
    });
  }
  const envelope = (await response.json().catch(() => null)) as Envelope<T> | null;
  if (!response.ok || envelope?.status !== "success")
    throw new ApiError(response.status, envelope?.error ?? null, envelope?.requestId);
  return envelope.data;
}

/** better-auth's own endpoints (`/api/auth/*`) answer plain JSON, not the envelope. */
export async function authCall<T>(path: string, body: unknown): Promise<T> {
  const response = await fetch(`${API_BASE}/api/auth${path}`, {
    method: "POST",
    headers: { accept: "application/json", "content-type": "application/json" },
    credentials: "include",
    body: JSON.stringify(body),
  });
  const json = (await response.json().catch(() => null)) as { message?: string; code?: string } | null;
  if (!response.ok) {
    throw new ApiError(response.status, {
      code:
        response.status === 401 ? "UNAUTHORIZED" : response.status === 429 ? "QUOTA_EXCEEDED" : "BAD_REQUEST",
      message: json?.message ?? `Request failed (${response.status}).`,
      details: json?.code ? { authCode: json.code } : undefined,
    });
  }
  return json as T;
}

/**
 * The marketplace's hosted sign-in page, returning to `next` (a path of this app) afterwards. Served
 * cross-origin, the app passes its own absolute URL (the marketplace allows MARKETPLACE_UI_ORIGIN).
 */
export function signInUrl(next: string = currentPath()): string {
  return `${API_BASE}/sign-in?next=${encodeURIComponent(returnTo(next))}`;
}
export function signUpUrl(next: string = currentPath()): string {
  return `${API_BASE}/sign-up?next=${encodeURIComponent(returnTo(next))}`;
}
const currentPath = () => `${location.pathname}${location.search}`;
const returnTo = (path: string) => (API_BASE ? `${location.origin}${path}` : path);
