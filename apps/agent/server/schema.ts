import { bigserial, integer, jsonb, pgTable, text, timestamp } from "drizzle-orm/pg-core";

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });

export const knowledgeBases = pgTable("knowledge_bases", {
  id: text("id").primaryKey(),
  userId: text("userId").notNull(),
  name: text("name").notNull(),
  status: text("status").$type<"active" | "deleting">().notNull().default("active"),
  createdAt: ts("createdAt").notNull().defaultNow(),
  updatedAt: ts("updatedAt").notNull().defaultNow(),
});

export const documents = pgTable("documents", {
  id: text("id").primaryKey(),
  kbId: text("kbId").notNull(),
  title: text("title").notNull(),
  content: text("content").notNull(),
  bytes: integer("bytes").notNull(),
  createdAt: ts("createdAt").notNull().defaultNow(),
});

export interface Citation {
  n: number;
  documentId: string;
  title: string;
  quote: string;
}

export const messages = pgTable("messages", {
  id: bigserial("id", { mode: "number" }).primaryKey(),
  kbId: text("kbId").notNull(),
  role: text("role").$type<"user" | "assistant">().notNull(),
  content: text("content").notNull(),
  citations: jsonb("citations").$type<Citation[]>().notNull().default([]),
  createdAt: ts("createdAt").notNull().defaultNow(),
});
