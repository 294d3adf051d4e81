import { existsSync } from "node:fs";
import { type AgentKit, MarketplaceError } from "@amp/agent-kit";
import { expressAdapter } from "@amp/agent-kit/express";
import { jsonTextProblem } from "@amp/contract";
import { type Connection, databaseErrorKind, isDatabaseUnavailable } from "@amp/db";
import express, { type NextFunction, type Request, type Response } from "express";
import type { Logger } from "pino";
import { z } from "zod";
import { citationsOf, extractiveAnswer, llmAnswer, passagesOf, retrieve } from "./answer.ts";
import type { AgentConfig } from "./config.ts";
import { type KnowledgeBases, NotFoundError } from "./kb.ts";
import type { AgentMetrics } from "./metrics.ts";
import { securityHeaders } from "./security-headers.ts";
import { httpTracing } from "./tracing.ts";

const NameSchema = z.strictObject({
  name: z.string().trim().min(1, "a name is required").max(80, "at most 80 characters"),
});
const TitleSchema = z.string().trim().min(1, "a title is required").max(200, "at most 200 characters");
const DocumentSchema = z.strictObject({
  title: TitleSchema,
  content: z.string().min(1, "the document is empty"),
});
const RenameDocumentSchema = z.strictObject({ title: TitleSchema });
const QuestionSchema = z.strictObject({
  question: z.string().trim().min(1, "ask something").max(2_000, "at most 2,000 characters"),
});

/** The marketplace page where a user sees their subscriptions and usage. */
export const MARKETPLACE_ACCOUNT_PATH = "/account";

/** Tracks open SSE streams so shutdown can end them cleanly. */
export class Streams {
  private readonly open = new Set<Response>();
  get size() {
    return this.open.size;
  }
  add(res: Response) {
    this.open.add(res);
    res.on("close", () => this.open.delete(res));
  }
  endAll() {
    for (const res of this.open) {
      res.write("event: shutdown\ndata: {}\n\n");
      res.end();
    }
  }
}

/** The knowledge-base assistant: agent-kit's routes plus knowledge bases, documents, questions and the web app. */
export function createAgentApp(deps: {
  config: AgentConfig;
  kit: AgentKit;
  kbs: KnowledgeBases;
  database: Connection;
  logger: Logger;
  streams: Streams;
  metrics?: AgentMetrics;
}) {
  const { config, kit, kbs, logger, streams } = deps;
  const mp = expressAdapter(kit);
  const app = express();
  app.disable("x-powered-by");
  // The client address keys agent-kit's sign-in callback throttle: believe X-Forwarded-For only across our proxies.
  app.set("trust proxy", config.trustProxy);
  app.use(httpTracing());
  app.use(securityHeaders({ https: config.backendUrl.startsWith("https://") }));

  app.use((req, res, next) => {
    const started = performance.now();
    res.on("finish", () =>
      logger.info(
        {
          method: req.method,
          path: req.path,
          status: res.statusCode,
          ms: Math.round(performance.now() - started),
        },
        "request",
      ),
    );
    next();
  });

  if (deps.metrics) {
    app.use(deps.metrics.http());
    app.get("/metrics", deps.metrics.route(config.metrics));
  }
  app.get("/health", (_req, res) => void res.json({ status: "ok" }));
  app.get("/ready", async (_req, res) => {
    try {
      await deps.database.sql.query("SELECT 1");
      res.json({ status: "ready" });
    } catch {
      res.status(503).json({ status: "database unavailable" });
    }
  });

  app.use(mp.router());
  // The marketplace's pushed events, before the body parser (the signature covers the raw bytes). agent-kit
  // drops the user's cached tier and tells their open pages (GET /api/me/events); this agent keeps the user's
  // knowledge bases whatever the plan (a cancellation deletes nothing), so it records what happened.
  if (config.webhookSecrets.length)
    app.use(
      mp.webhooks({
        secrets: config.webhookSecrets,
        onEvent: (event, { userId }) => {
          logger.info(
            {
              event: event.id,
              type: event.type,
              userId,
              status: event.data.subscription?.status,
              tier: event.data.subscription?.tier.name,
            },
            event.type === "subscription.canceled"
              ? "marketplace event: subscription canceled (knowledge bases kept)"
              : "marketplace event",
          );
        },
      }),
    );
  const documentLimit = Math.ceil(config.maxDocumentBytes * 1.1) + 1_024;
  app.use(
    "/api",
    express.json({
      limit: documentLimit,
      // Before parsing: a NUL cannot be stored, and deep nesting overflows recursive code downstream.
      verify: (_req, _res, buf) => {
        const problem = jsonTextProblem(buf.toString("utf8"));
        if (problem) throw new BadRequest(problem);
      },
    }),
  );
  const user = mp.requireUser();
  const body = <T extends z.ZodType>(schema: T, req: Request): z.infer<T> => {
    const parsed = schema.safeParse(req.body);
    if (!parsed.success)
      throw new BadRequest(
        parsed.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; "),
      );
    return parsed.data;
  };

  app.get(
    "/api/features",
    user,
    mp.marketplaceRoute(
      async (_req, res, u) => void res.json({ voice: await kit.client(u.id).feature("voice") }),
    ),
  );

  // Where "Plan & usage" and "Upgrade" point: the marketplace pages for this agent and for the user's account.
  app.get(
    "/api/plan-links",
    user,
    (_req, res) =>
      void res.json({
        pricingUrl: kit.upgradeUrl,
        accountUrl: `${config.marketplaceUrl}${MARKETPLACE_ACCOUNT_PATH}`,
      }),
  );

  app.get(
    "/api/kbs",
    user,
    async (_req, res) => void res.json({ knowledgeBases: await kbs.list(res.locals.user!.id) }),
  );

  // Create: charge first with an id derived from the new KB, insert, and give the unit back if the insert fails.
  app.post(
    "/api/kbs",
    user,
    mp.marketplaceRoute(async (req, res, u) => {
      const { name } = body(NameSchema, req);
      const id = kbs.newId();
      const client = kit.client(u.id);
      await client.consume("knowledge-bases", 1, { clientReqId: `create-${id}` });
      try {
        res.status(201).json({ knowledgeBase: await kbs.create(u.id, id, name) });
      } catch (error) {
        await client.release("knowledge-bases", 1, { clientReqId: `release-${id}` });
        throw error;
      }
    }),
  );
  app.get("/api/kbs/:id", user, async (req, res) => {
    const kb = await kbs.get(res.locals.user!.id, String(req.params.id));
    res.json({
      knowledgeBase: kb,
      documents: await kbs.documents(kb.id),
      messages: (await kbs.history(kb.id)).reverse(),
    });
  });
  app.patch("/api/kbs/:id", user, async (req, res) => {
    res.json({
      knowledgeBase: await kbs.rename(res.locals.user!.id, String(req.params.id), body(NameSchema, req).name),
    });
  });
  // Delete: hide, release with a deterministic id (a repeat never releases twice), then purge.
  app.delete(
    "/api/kbs/:id",
    user,
    mp.marketplaceRoute(async (req, res, u) => {
      const kb = await kbs.markDeleting(u.id, String(req.params.id));
      await kit.client(u.id).release("knowledge-bases", 1, { clientReqId: `release-${kb.id}` });
      await kbs.purge(kb.id);
      res.json({ deleted: true });
    }),
  );

  app.post("/api/kbs/:id/documents", user, async (req, res) => {
    const kb = await kbs.get(res.locals.user!.id, String(req.params.id));
    const { title, content } = body(DocumentSchema, req);
    if (Buffer.byteLength(content) > config.maxDocumentBytes) {
      return void res.status(413).json({
        error: "document_too_large",
        message: `Documents are limited to ${Math.round(config.maxDocumentBytes / 1000)} kB.`,
      });
    }
    if (content.includes("\u0000"))
      throw new BadRequest("content: only text and Markdown documents are supported");
    res.status(201).json({ document: await kbs.addDocument(kb.id, title, content) });
  });
  app.get("/api/kbs/:id/documents/:documentId", user, async (req, res) => {
    const kb = await kbs.get(res.locals.user!.id, String(req.params.id));
    res.json({ document: await kbs.document(kb.id, String(req.params.documentId)) });
  });
  app.patch("/api/kbs/:id/documents/:documentId", user, async (req, res) => {
    const kb = await kbs.get(res.locals.user!.id, String(req.params.id));
    const { title } = body(RenameDocumentSchema, req);
    res.json({ document: await kbs.renameDocument(kb.id, String(req.params.documentId), title) });
  });
  app.delete("/api/kbs/:id/documents/:documentId", user, async (req, res) => {
    const kb = await kbs.get(res.locals.user!.id, String(req.params.id));
    await kbs.deleteDocument(kb.id, String(req.params.documentId));
    res.json({ deleted: true });
  });

  // Ask: charged before anything runs; the answer streams over Server-Sent Events.
  app.post(
    "/api/kbs/:id/ask",
    user,
    async (req, res, next) => {
      try {
        const kb = await kbs.get(res.locals.user!.id, String(req.params.id));
        const { question } = body(QuestionSchema, req);
        res.locals.question = question;
        res.locals.kb = kb;
        next();
      } catch (error) {
        next(error);
      }
    },
    mp.chargeable("messages"),
    async (_req, res) => {
      const kb = res.locals.kb as { id: string };
      const question = res.locals.question as string;
      await kbs.record(kb.id, "user", question);
      const passages = retrieve(passagesOf(await kbs.documentContents(kb.id)), question);
      const citations = citationsOf(passages);
      res.writeHead(200, {
        "content-type": "text/event-stream",
        "cache-control": "no-store",
        connection: "keep-alive",
        "x-accel-buffering": "no",
      });
      streams.add(res);
      const send = (event: string, data: unknown) =>
        res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      send("charge", {
        remaining: res.locals.charge?.remaining ?? null,
        resetsAt: res.locals.charge?.resetsAt ?? null,
      });
      send("citations", citations);
      const aborted = new AbortController();
      res.on("close", () => aborted.abort());
      let answer = "";
      try {
        const stream = config.llm
          ? llmAnswer(config.llm, question, passages, aborted.signal)
          : extractiveAnswer(passages);
        for await (const token of stream) {
          if (aborted.signal.aborted) break;
          answer += token;
          send("token", token);
        }
      } catch (error) {
        logger.warn(
          { err: { message: (error as Error).message } },
          "generated answer failed; falling back to the extractive one",
        );
        if (!answer) {
          for await (const token of extractiveAnswer(passages)) {
            answer += token;
            send("token", token);
          }
        }
      }
      await kbs.record(kb.id, "assistant", answer, citations);
      send("done", {});
      res.end();
    },
  );

  if (existsSync(config.webDist)) {
    app.use(express.static(config.webDist, { index: false, maxAge: "1h" }));
    // The web app's routes; API paths never fall through to it.
    // The shell is never cached, so a deploy (new asset hashes) or a sign-out is seen at once, as on the marketplace.
    app.get(/^\/(?!api\/|me$|health$|ready$).*/, (_req, res) =>
      res.setHeader("cache-control", "no-store").sendFile(`${config.webDist}/index.html`),
    );
  }

  app.use(
    (req: Request, res: Response) =>
      void res.status(404).json({ error: "not_found", message: `No route for ${req.method} ${req.path}` }),
  );
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    // body-parser hands on what `verify` threw, as the cause-less error itself.
    if (error instanceof BadRequest)
      return void res.status(400).json({ error: "bad_request", message: error.message });
    // Whatever route reached the database with it (a NUL in a path id, say): the caller's input, not a 500.
    const kind = databaseErrorKind(error);
    if (kind === "invalid")
      return void res
        .status(400)
        .json({ error: "bad_request", message: "The request contains a value that cannot be stored." });
    if (kind === "conflict")
      return void res.status(409).json({ error: "conflict", message: "That already exists." });
    if (error instanceof NotFoundError)
      return void res.status(404).json({ error: "not_found", message: error.message });
    if ((error as { type?: string }).type === "entity.too.large") {
      return void res.status(413).json({
        error: "too_large",
        message: `Documents are limited to ${Math.round(config.maxDocumentBytes / 1000)} kB.`,
      });
    }
    if ((error as { type?: string }).type === "entity.parse.failed")
      return void res.status(400).json({ error: "bad_request", message: "Malformed JSON." });
    if (isDatabaseUnavailable(error)) {
      return void res
        .status(503)
        .json({ error: "try_again", message: "The service is briefly unavailable; try again." });
    }
    if (error instanceof MarketplaceError) {
      const reply = kit.replyFor(error);
      return void res.status(reply.status).json(reply.body);
    }
    logger.error({ err: error }, "unhandled error");
    if (!res.headersSent) res.status(500).json({ error: "internal_error", message: "Something went wrong." });
  });
  return app;
}

class BadRequest extends Error {}
