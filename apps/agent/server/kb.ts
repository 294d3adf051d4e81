import { randomUUID } from "node:crypto";
import type { DrizzleDb } from "@amp/db";
import { and, asc, desc, eq } from "drizzle-orm";
import * as schema from "./schema.ts";
import { documents, knowledgeBases, messages } from "./schema.ts";

export type AgentDb = DrizzleDb<typeof schema>;
export { schema };

/** What a document list shows: everything but the text. */
const DOCUMENT_SUMMARY = {
  id: documents.id,
  title: documents.title,
  bytes: documents.bytes,
  createdAt: documents.createdAt,
};

export class NotFoundError extends Error {}

/** The knowledge-base store: everything is scoped to the owning (agent) user. */
export class KnowledgeBases {
  constructor(private readonly db: AgentDb) {}

  list(userId: string) {
    return this.db
      .select()
      .from(knowledgeBases)
      .where(and(eq(knowledgeBases.userId, userId), eq(knowledgeBases.status, "active")))
      .orderBy(asc(knowledgeBases.createdAt));
  }

  async get(userId: string, id: string) {
    const [kb] = await this.db
      .select()
      .from(knowledgeBases)
      .where(
        and(
          eq(knowledgeBases.id, id),
          eq(knowledgeBases.userId, userId),
          eq(knowledgeBases.status, "active"),
        ),
      );
    if (!kb) throw new NotFoundError("No such knowledge base.");
    return kb;
  }

  newId() {
    return randomUUID();
  }

  async create(userId: string, id: string, name: string) {
    const [kb] = await this.db.insert(knowledgeBases).values({ id, userId, name }).returning();
    return kb!;
  }

  async rename(userId: string, id: string, name: string) {
    await this.get(userId, id);
    const [kb] = await this.db
      .update(knowledgeBases)
      .set({ name, updatedAt: new Date() })
      .where(eq(knowledgeBases.id, id))
      .returning();
    return kb!;
  }

  /** First step of a delete: hide it; the row stays until its quota unit is released. Also finds half-deleted ones. */
  async markDeleting(userId: string, id: string) {
    const [kb] = await this.db
      .update(knowledgeBases)
      .set({ status: "deleting", updatedAt: new Date() })
      .where(and(eq(knowledgeBases.id, id), eq(knowledgeBases.userId, userId)))
      .returning();
    if (!kb) throw new NotFoundError("No such knowledge base.");
    return kb;
  }

  async purge(id: string) {
    await this.db.delete(knowledgeBases).where(eq(knowledgeBases.id, id));
  }

  async documents(kbId: string) {
    return this.db
      .select(DOCUMENT_SUMMARY)
      .from(documents)
      .where(eq(documents.kbId, kbId))
      .orderBy(asc(documents.createdAt));
  }

  async documentContents(kbId: string) {
    return this.db.select().from(documents).where(eq(documents.kbId, kbId));
  }

  async addDocument(kbId: string, title: string, content: string) {
    const [doc] = await this.db
      .insert(documents)
      .values({ id: randomUUID(), kbId, title, content, bytes: Buffer.byteLength(content) })
      .returning(DOCUMENT_SUMMARY);
    return doc!;
  }

  /** One document with its text, for the viewer. */
  async document(kbId: string, documentId: string) {
    const [doc] = await this.db
      .select()
      .from(documents)
      .where(and(eq(documents.id, documentId), eq(documents.kbId, kbId)));
    if (!doc) throw new NotFoundError("No such document.");
    return doc;
  }

  async renameDocument(kbId: string, documentId: string, title: string) {
    const [doc] = await this.db
      .update(documents)
      .set({ title })
      .where(and(eq(documents.id, documentId), eq(documents.kbId, kbId)))
      .returning(DOCUMENT_SUMMARY);
    if (!doc) throw new NotFoundError("No such document.");
    return doc;
  }

  async deleteDocument(kbId: string, documentId: string) {
    const gone = await this.db
      .delete(documents)
      .where(and(eq(documents.id, documentId), eq(documents.kbId, kbId)))
      .returning({ id: documents.id });
    if (gone.length === 0) throw new NotFoundError("No such document.");
  }

  history(kbId: string, limit = 50) {
    return this.db
      .select()
      .from(messages)
      .where(eq(messages.kbId, kbId))
      .orderBy(desc(messages.id))
      .limit(limit);
  }

  async record(kbId: string, role: "user" | "assistant", content: string, citations: schema.Citation[] = []) {
    await this.db.insert(messages).values({ kbId, role, content, citations });
  }
}
