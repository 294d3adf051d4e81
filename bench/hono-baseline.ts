// Baseline: a bare Hono route on @hono/node-server that parses the same JSON body as consume and answers JSON.
import { serve } from "@hono/node-server";
import { Hono } from "hono";

const app = new Hono();
app.post("/consume", async (c) => {
  const body = await c.req.json<{ delta: number; clientReqId: string }>();
  return c.json({ status: "success", data: { used: body.delta, clientReqId: body.clientReqId } });
});
serve({ fetch: app.fetch, port: Number(process.env.PORT), hostname: "127.0.0.1" });
console.log("ready");
