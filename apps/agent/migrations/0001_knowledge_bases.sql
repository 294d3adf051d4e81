-- The knowledge-base assistant's own data. Users are agent-kit's ("user" table, migrations of @amp/agent-kit).
CREATE TABLE "knowledge_bases" (
  "id" text PRIMARY KEY,
  "userId" text NOT NULL REFERENCES "user" ("id") ON DELETE CASCADE,
  "name" text NOT NULL,
  -- `deleting`: removed for the user, its quota unit not yet released (retried on the next delete).
  "status" text NOT NULL DEFAULT 'active' CHECK ("status" IN ('active', 'deleting')),
  "createdAt" timestamptz NOT NULL DEFAULT now(),
  "updatedAt" timestamptz NOT NULL DEFAULT now()
);
--> statement-breakpoint
CREATE INDEX "kb_user_idx" ON "knowledge_bases" ("userId", "createdAt");
--> statement-breakpoint
CREATE TABLE "documents" (
  "id" text PRIMARY KEY,
  "kbId" text NOT NULL REFERENCES "knowledge_bases" ("id") ON DELETE CASCADE,
  "title" text NOT NULL,
  "content" text NOT NULL,
  "bytes" integer NOT NULL,
  "createdAt" timestamptz NOT NULL DEFAULT now()
);
--> statement-breakpoint
CREATE INDEX "documents_kb_idx" ON "documents" ("kbId", "createdAt");
--> statement-breakpoint
CREATE TABLE "messages" (
  "id" bigserial PRIMARY KEY,
  "kbId" text NOT NULL REFERENCES "knowledge_bases" ("id") ON DELETE CASCADE,
  "role" text NOT NULL CHECK ("role" IN ('user', 'assistant')),
  "content" text NOT NULL,
  "citations" jsonb NOT NULL DEFAULT '[]'::jsonb,
  "createdAt" timestamptz NOT NULL DEFAULT now()
);
--> statement-breakpoint
CREATE INDEX "messages_kb_idx" ON "messages" ("kbId", "id");
