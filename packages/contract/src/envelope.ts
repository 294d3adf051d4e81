import { z } from "zod";
import { ErrorCodeSchema } from "./errors.ts";

/** Cursor pagination block of list responses (CONTRACT.md §4). */
export const PaginationSchema = z.object({
  cursor: z.string().nullable(),
  hasMore: z.boolean(),
  limit: z.number().int().positive(),
});
export type Pagination = z.infer<typeof PaginationSchema>;

export const ApiErrorBodySchema = z.object({
  code: ErrorCodeSchema,
  message: z.string(),
  details: z.record(z.string(), z.unknown()).optional(),
});
export type ApiErrorBody = z.infer<typeof ApiErrorBodySchema>;

const base = {
  requestId: z.string(),
  timestamp: z.string(),
  statusCode: z.number().int(),
};

/** A successful envelope wrapping `data` of the given schema. */
export function successEnvelope<T extends z.ZodType>(data: T) {
  return z.object({
    ...base,
    status: z.literal("success"),
    data,
    error: z.null(),
    pagination: PaginationSchema.optional(),
  });
}

export const ErrorEnvelopeSchema = z.object({
  ...base,
  status: z.literal("error"),
  data: z.null(),
  error: ApiErrorBodySchema,
});
export type ErrorEnvelope = z.infer<typeof ErrorEnvelopeSchema>;

export type SuccessEnvelope<T> = {
  requestId: string;
  timestamp: string;
  statusCode: number;
  status: "success";
  data: T;
  error: null;
  pagination?: Pagination;
};
