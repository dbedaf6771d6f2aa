import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { createServer, type IncomingHttpHeaders, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { after, before, beforeEach, describe, it } from "node:test";
import { createClient } from "../../packages/client/src/node.js";
import { png } from "../helpers/fixtures.js";
import { freePort, startStowage, type TestServer } from "../helpers/server.js";
import { storedBytes } from "../helpers/stored.js";
import { MiB, MP4_HEADER, sweepConfigFile } from "../helpers/sweep.js";
import { rejection } from "./rejection.js";

/*
 * The SDK's retries, against the real server through a stand-in HTTP proxy that misbehaves on
 * purpose: the server's own base URL is the proxy's, so API calls *and* the local store's PUT URLs
 * it signs go through it. Delays and stall timeouts are small so the file runs in seconds.
 */

type Kind = "presign" | "sign-parts" | "complete" | "confirm" | "put" | "other";

/** One request as the proxy saw it. */
interface Exchange {
  kind: Kind;
  /** 1-based count of this kind so far in the test. */
  n: number;
  method: string;
  url: URL;
  /** `partNumber` of a PUT (`"whole"` for a single PUT). */
  part: string;
  /** A JSON request's body. */
  json: unknown;
  arrivedAt: number;
  /** When the proxy answered (its status line went out). */
  answeredAt?: number;
  /** When the client hung up before the answer ended (a cut). */
  cutAt?: number;
  /** When a stalled body stopped being read. */
  stalledAt?: number;
  /** Body bytes the proxy read from the client. */
  received: number;
  finished: Promise<void>;
}

/** What the proxy does with a request. */
type Action =
  | { do: "forward"; after?: Promise<void> }
  /** Answers this itself; the server never sees the request. */
  | { do: "answer"; status: number; headers?: Record<string, string>; body?: string }
  /** Forwards (the server acts on it), but the client gets this status instead: an answer lost on the way. */
  | { do: "lose"; status: number }
  /** Reads the request, never answers. */
  | { do: "hang" }
  /** Reads this many body bytes, then reads no more and never answers. */
  | { do: "stall"; afterBytes: number }
  /** Forwards, sends the server's status and headers, never its body. */
  | { do: "withhold-body" };

const FORWARD: Action = { do: "forward" };
/** A hung request is dropped after this long, so a missing cut shows as a failed assertion, not a hung test. */
const SAFETY_MS = 6000;
/**
 * How much earlier than its limit a stall cut may seem: the test stamps the last progress in its
 * callback, just after the SDK's own stamp, and a loaded machine may deschedule the process in
 * between. A watch that cut a check early (limit/4, 100 ms here) still fails.
 */
const EARLY_SLACK_MS = 50;

function kindOf(method: string, path: string): Kind {
  if (method === "PUT") return "put";
  if (method !== "POST") return "other";
  if (path === "/v1/uploads") return "presign";
  if (/^\/v1\/uploads\/[^/]+\/parts$/.test(path)) return "sign-parts";
  if (/^\/v1\/uploads\/[^/]+\/complete$/.test(path)) return "complete";
  if (/^\/v1\/uploads\/[^/]+\/confirm$/.test(path)) return "confirm";
  return "other";
}

const jsonError = (code: string, message: string) => JSON.stringify({ error: { code, message } });

async function startProxy(port: number, target: { host: string; port: number }) {
  const log: Exchange[] = [];
  const state = { rule: (_: Exchange): Action => FORWARD };

  const send = (req: IncomingMessage, body: Buffer | undefined, onResponse: (answer: IncomingMessage) => void, res: ServerResponse) => {
    const headers: IncomingHttpHeaders = { ...req.headers };
    const upstream = httpRequest({ host: target.host, port: target.port, method: req.method, path: req.url, headers }, onResponse);
    upstream.on("error", () => res.destroy());
    res.on("close", () => upstream.destroy());
    if (body === undefined) req.pipe(upstream);
    else upstream.end(body);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://proxy");
    const kind = kindOf(req.method ?? "GET", url.pathname);
    let finish = () => {};
    const exchange: Exchange = {
      kind,
      n: log.filter((x) => x.kind === kind).length + 1,
      method: req.method ?? "GET",
      url,
      part: url.searchParams.get("partNumber") ?? "whole",
      json: undefined,
      arrivedAt: Date.now(),
      received: 0,
      finished: new Promise((resolve) => (finish = resolve)),
    };
    log.push(exchange);
    res.on("close", () => {
      if (!res.writableFinished) exchange.cutAt = Date.now();
      finish();
    });
    const answered = () => (exchange.answeredAt = Date.now());
    // JSON calls are small: read them whole, so a rule can look at them.
    let body: Buffer | undefined;
    if (kind !== "put") {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      body = Buffer.concat(chunks);
      exchange.received = body.length;
      if (body.length > 0 && /json/.test(req.headers["content-type"] ?? "")) exchange.json = JSON.parse(body.toString());
    } else {
      req.on("data", (chunk: Buffer) => (exchange.received += chunk.length));
    }
    const action = state.rule(exchange);
    const safety = setTimeout(() => res.destroy(), SAFETY_MS);
    res.on("close", () => clearTimeout(safety));
    switch (action.do) {
      case "forward":
        if (action.after !== undefined) {
          if (kind === "put") req.pause();
          await action.after;
        }
        clearTimeout(safety);
        send(req, body, (answer) => {
          answered();
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        }, res);
        return;
      case "answer":
        if (body === undefined) await new Promise((resolve) => req.resume().on("end", resolve));
        answered();
        res.writeHead(action.status, { "content-type": "application/json", ...action.headers });
        res.end(action.body ?? jsonError("INJECTED", `The proxy answered ${action.status}.`));
        return;
      case "lose":
        send(req, body, (answer) => {
          answer.resume().on("end", () => {
            answered();
            res.writeHead(action.status, { "content-type": "application/json" });
            res.end(jsonError("UNAVAILABLE", "The answer was lost on the way."));
          });
        }, res);
        return;
      case "hang":
        req.resume();
        return;
      case "stall":
        req.on("data", () => {
          if (exchange.received >= action.afterBytes && exchange.stalledAt === undefined) {
            exchange.stalledAt = Date.now();
            req.pause();
          }
        });
        return;
      case "withhold-body":
        send(req, body, (answer) => {
          answered();
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          res.flushHeaders();
          answer.resume();
        }, res);
        return;
    }
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    log,
    set rule(rule: (x: Exchange) => Action) {
      state.rule = rule;
    },
    of: (kind: Kind) => log.filter((x) => x.kind === kind),
    reset() {
      log.length = 0;
      state.rule = () => FORWARD;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const video = (size: number) => Buffer.concat([MP4_HEADER, randomBytes(size - MP4_HEADER.length)]);
/** Quick retries: 10 ms doubling to 200 ms (a `Retry-After` is honoured up to ten times that). */
const FAST = { retries: 3, minDelayMs: 10, maxDelayMs: 200, stallTimeoutMs: 5000 };

describe("the SDK's retries, through a misbehaving proxy to the real server", () => {
  let server: TestServer;
  let proxy: Awaited<ReturnType<typeof startProxy>>;
  before(async () => {
    const proxyPort = await freePort();
    server = await startStowage({
      STOWAGE_BASE_URL: `http://127.0.0.1:${proxyPort}`,
      STOWAGE_CONFIG_FILE: sweepConfigFile(),
      STOWAGE_DEFAULT_QUOTA_BYTES: String(500 * MiB),
    });
    proxy = await startProxy(proxyPort, { host: "127.0.0.1", port: server.config.port });
  });
  after(async () => {
    await proxy.close();
    await server.close();
  });
  beforeEach(() => proxy.reset());

  type SdkOptions = { retry?: Partial<typeof FAST>; concurrency?: number; apiTimeoutMs?: number; fetch?: typeof fetch };
  const sdk = (user: string, options: SdkOptions = {}) =>
    createClient({
      baseUrl: server.baseUrl,
      getToken: () => server.token(user),
      ...options,
      retry: { ...FAST, ...options.retry },
    });
  const stored = async (key: string, length: number) => storedBytes(server.runtime.driver, { bucket: "private", key, length });

  describe("a stalled transfer", () => {
    it("is cut after the stall timeout and retried, on its own part", { timeout: 15_000 }, async () => {
      const body = video(5 * MiB + 300_000);
      const stallTimeoutMs = 2000;
      // Part 1's first PUT, whichever part reaches the proxy first (the two go out at once).
      const firstOfPart1 = (x: Exchange) => x.kind === "put" && x.part === "1" && proxy.of("put").filter((p) => p.part === "1").length === 1;
      proxy.rule = (x) => (firstOfPart1(x) ? { do: "stall", afterBytes: 256 * 1024 } : FORWARD);
      const retries: unknown[] = [];
      let lastProgressAt = 0;
      let retriedAt = 0;
      const result = await sdk("staller", { retry: { stallTimeoutMs } }).upload(body, {
        ownerType: "video",
        contentType: "video/mp4",
        onRetry: (info) => {
          retriedAt = Date.now();
          retries.push(info);
        },
        onProgress: (p) => {
          if (p.part?.partNumber === 1 && retries.length === 0 && p.part.loaded > 0) lastProgressAt = Date.now();
        },
      });
      assert.equal(result.status, "confirmed");
      assert.equal(result.size, body.length);
      assert.deepEqual(await stored(result.key, 64), body.subarray(0, 64));
      assert.deepEqual(retries, [{ attempt: 1, reason: "stalled", partNumber: 1 }]);
      const puts = proxy.of("put");
      assert.deepEqual(puts.map((x) => x.part).sort(), ["1", "1", "2"], "only the stalled part was sent again");
      const [stalled] = puts.filter((x) => x.part === "1");
      // The store read a quarter of a MiB, then nothing (the sockets' buffers took the rest of the
      // part, so the SDK saw its last progress, then no answer: a stall all the same).
      assert.ok(stalled?.stalledAt !== undefined && stalled.received < 1 * MiB, `the store got ${stalled?.received} bytes`);
      const waited = retriedAt - lastProgressAt;
      // The watch checks every stallTimeout/4: a cut comes within about that of the limit (plus a loaded machine's slack).
      // It may also seem early by as long as the process was descheduled between the SDK's own
      // progress stamp and the callback's (391 ms of a 400 ms limit once, under CI's two legs).
      assert.ok(waited >= stallTimeoutMs - EARLY_SLACK_MS && waited < stallTimeoutMs + 2500, `cut ${waited} ms after the last progress`);
    });

    it("fails as STALLED, a network failure, once every try stalls", { timeout: 15_000 }, async () => {
      proxy.rule = (x) => (x.kind === "put" ? { do: "stall", afterBytes: 64 * 1024 } : FORWARD);
      let lastProgressAt = 0;
      let retriedAt = 0;
      const error = await rejection(
        sdk("always-stalled", { retry: { retries: 1, stallTimeoutMs: 400 } }).upload(png(400_000), {
          ownerType: "avatar",
          contentType: "image/png",
          onRetry: () => (retriedAt = Date.now()),
          onProgress: (p) => retriedAt === 0 && p.loaded > 0 && (lastProgressAt = Date.now()),
        }),
      );
      assert.equal(error.kind, "network");
      assert.equal(error.code, "STALLED");
      assert.equal(proxy.of("put").length, 2);
      assert.ok(proxy.of("put").every((x) => x.stalledAt !== undefined));
      // Cut by the stall watch, not by the proxy's safety cut (which the SDK would also call a stall).
      const waited = retriedAt - lastProgressAt;
      assert.ok(waited >= 400 - EARLY_SLACK_MS && waited < 400 + 2500, `cut ${waited} ms after the last progress`);
    });
  });

  describe("a 429 with Retry-After", () => {
    const tooMany: Action = { do: "answer", status: 429, headers: { "retry-after": "1" }, body: jsonError("RATE_LIMITED", "Slow down.") };
    const gapAfter = (first: Exchange | undefined, second: Exchange | undefined) => {
      assert.ok(first?.answeredAt !== undefined && second !== undefined);
      return second.arrivedAt - first.answeredAt;
    };

    it("on a transfer: the SDK waits what the store asked, then sends it again", { timeout: 15_000 }, async () => {
      proxy.rule = (x) => (x.kind === "put" && x.n === 1 ? tooMany : FORWARD);
      const retries: unknown[] = [];
      const result = await sdk("patient").upload(png(200_000), { ownerType: "avatar", contentType: "image/png", onRetry: (r) => retries.push(r) });
      assert.equal(result.status, "confirmed");
      assert.deepEqual(retries, [{ attempt: 1, reason: "HTTP 429" }]);
      const [first, second] = proxy.of("put");
      const gap = gapAfter(first, second);
      // Without Retry-After the first wait is 5–10 ms here.
      assert.ok(gap >= 990 && gap < 3000, `tried again ${gap} ms after a Retry-After of 1 s`);
    });

    it("on an API call (presign): the same", { timeout: 15_000 }, async () => {
      proxy.rule = (x) => (x.kind === "presign" && x.n === 1 ? tooMany : FORWARD);
      const result = await sdk("patient-api").upload(png(2000), { ownerType: "avatar", contentType: "image/png" });
      assert.equal(result.status, "confirmed");
      const [first, second] = proxy.of("presign");
      assert.equal(proxy.of("presign").length, 2);
      const gap = gapAfter(first, second);
      assert.ok(gap >= 990 && gap < 3000, `tried again ${gap} ms after a Retry-After of 1 s`);
    });
  });

  describe("API calls", () => {
    // Each call's first try fails. Presign's 503 comes from the proxy (the server never saw it);
    // the others reach the server, which acts, and their answers are lost: a retry must be harmless.
    const calls: [Exclude<Kind, "put" | "other">, Action, "single" | "multipart"][] = [
      ["presign", { do: "answer", status: 503 }, "single"],
      ["sign-parts", { do: "lose", status: 503 }, "multipart"],
      ["complete", { do: "lose", status: 502 }, "multipart"],
      ["confirm", { do: "lose", status: 503 }, "single"],
      ["confirm", { do: "lose", status: 500 }, "multipart"],
    ];
    for (const [kind, failure, shape] of calls) {
      it(`retries ${kind} after a ${"status" in failure ? failure.status : ""} (${shape} upload)`, { timeout: 15_000 }, async () => {
        proxy.rule = (x) => (x.kind === kind && x.n === 1 ? failure : FORWARD);
        const body = shape === "single" ? png(3000) : video(5 * MiB + 1000);
        const user = `retry-${kind}-${shape}`;
        const result = await sdk(user, { concurrency: 1 }).upload(body, {
          ownerType: shape === "single" ? "avatar" : "video",
          contentType: shape === "single" ? "image/png" : "video/mp4",
        });
        assert.equal(result.status, "confirmed");
        assert.equal(result.size, body.length);
        assert.equal(proxy.of(kind).length, kind === "sign-parts" ? 3 : 2, `${kind} calls`);
        if (kind === "sign-parts") {
          const signed = proxy.of("sign-parts").map((x) => (x.json as { partNumbers: number[] }).partNumbers);
          assert.deepEqual(signed, [[1], [1], [2]], "part 1's signing was tried again, then part 2's");
        }
        const quota = await sdk(user).quota();
        assert.deepEqual([quota.usedBytes, quota.pendingUploads, quota.reservedBytes], [body.length, 0, 0], "charged once");
      });
    }

    const refusals: [Exclude<Kind, "put" | "other">, number, "single" | "multipart"][] = [
      ["presign", 409, "single"],
      ["sign-parts", 400, "multipart"],
      ["complete", 400, "multipart"],
      ["confirm", 422, "single"],
    ];
    for (const [kind, status, shape] of refusals) {
      it(`never retries a ${status} refusal of ${kind}`, { timeout: 15_000 }, async () => {
        proxy.rule = (x) => (x.kind === kind ? { do: "answer", status, body: jsonError("NO_THANKS", `Refused ${kind}.`) } : FORWARD);
        const error = await rejection(
          sdk(`refused-${kind}`, { concurrency: 1 }).upload(shape === "single" ? png(3000) : video(5 * MiB + 1000), {
            ownerType: shape === "single" ? "avatar" : "video",
            contentType: shape === "single" ? "image/png" : "video/mp4",
          }),
        );
        assert.equal(error.kind, "refused");
        assert.equal(error.code, "NO_THANKS");
        assert.equal(error.status, status);
        assert.equal(proxy.of(kind).length, 1, `${kind} was asked once`);
      });
    }

    it("never retries the server's own refusal at confirm (a spoofed type)", { timeout: 15_000 }, async () => {
      const notAPng = Buffer.concat([Buffer.from("%PDF-1.4\n"), randomBytes(3000)]);
      const error = await rejection(sdk("spoofer").upload(notAPng, { ownerType: "avatar", contentType: "image/png" }));
      assert.equal(error.kind, "refused");
      assert.ok(error.status !== undefined && error.status >= 400 && error.status < 500, `status ${error.status}`);
      assert.equal(proxy.of("confirm").length, 1);
    });
  });

  describe("API calls that get no answer", () => {
    const apiTimeoutMs = 500;
    /** Whether the client hung up on this call (the proxy sees it a moment after the client gave up). */
    const cutAfter = async (x: Exchange | undefined) => {
      await Promise.race([x?.finished, new Promise((resolve) => setTimeout(resolve, 1000))]);
      assert.ok(x?.cutAt !== undefined, "the client hung up");
      return x.cutAt - x.arrivedAt;
    };
    /** The SDK's API calls as it makes them: when each try began, by path. */
    const timed = () => {
      const starts: { path: string; at: number }[] = [];
      const timedFetch: typeof fetch = (input, init) => {
        starts.push({ path: new URL(input instanceof Request ? input.url : String(input)).pathname, at: Date.now() });
        return fetch(input, init);
      };
      const gaps = (path: RegExp) => {
        const at = starts.filter((s) => path.test(s.path)).map((s) => s.at);
        return at.slice(1).map((t, i) => t - (at[i] ?? t));
      };
      return { fetch: timedFetch, gaps };
    };

    it("are cut after the API timeout and retried: a hung presign, a confirm whose body never comes", { timeout: 20_000 }, async () => {
      proxy.rule = (x) => {
        if (x.kind === "presign" && x.n === 1) return { do: "hang" };
        // The server confirms; its status and headers come, the body never does.
        if (x.kind === "confirm" && x.n === 1) return { do: "withhold-body" };
        return FORWARD;
      };
      const body = png(3000);
      const calls = timed();
      const client = sdk("hung", { apiTimeoutMs, fetch: calls.fetch });
      const result = await client.upload(body, { ownerType: "avatar", contentType: "image/png" });
      assert.equal(result.status, "confirmed");
      assert.equal(proxy.of("presign").length, 2);
      assert.equal(proxy.of("confirm").length, 2);
      assert.ok(proxy.of("confirm")[0]?.answeredAt !== undefined, "the first confirm's head was sent");
      for (const [name, path] of [["presign", /^\/v1\/uploads$/], ["confirm", /\/confirm$/]] as const) {
        const [gap] = calls.gaps(path);
        // Given its timeout (the retry's own wait is 5–10 ms), and cut by it rather than by the proxy's safety cut.
        assert.ok(gap !== undefined && gap >= apiTimeoutMs && gap < apiTimeoutMs + 2500, `${name} tried again ${gap} ms after the first try began`);
      }
      for (const x of [proxy.of("presign")[0], proxy.of("confirm")[0]]) await cutAfter(x);
      const quota = await client.quota();
      assert.deepEqual([quota.usedBytes, quota.pendingUploads, quota.reservedBytes], [body.length, 0, 0], "confirmed once");
    });

    it("fails as TIMEOUT, a network failure, once no try is answered", { timeout: 20_000 }, async () => {
      proxy.rule = (x) => (x.kind === "presign" ? { do: "hang" } : FORWARD);
      const calls = timed();
      const error = await rejection(
        sdk("never-answered", { apiTimeoutMs: 300, retry: { retries: 1 }, fetch: calls.fetch }).upload(png(3000), { ownerType: "avatar", contentType: "image/png" }),
      );
      assert.equal(error.kind, "network");
      assert.equal(error.code, "TIMEOUT");
      assert.equal(proxy.of("presign").length, 2);
      const [gap] = calls.gaps(/^\/v1\/uploads$/);
      assert.ok(gap !== undefined && gap >= 300 && gap < 300 + 2500, `tried again ${gap} ms after the first try began`);
      for (const x of proxy.of("presign")) await cutAfter(x);
    });

    it("still stop at once when the caller aborts (the timeout joins the caller's signal)", { timeout: 20_000 }, async () => {
      proxy.rule = (x) => (x.kind === "presign" ? { do: "hang" } : FORWARD);
      const controller = new AbortController();
      const aborting = setTimeout(() => controller.abort(), 300);
      const started = Date.now();
      const error = await rejection(
        sdk("impatient", { apiTimeoutMs: 60_000 }).upload(png(3000), { ownerType: "avatar", contentType: "image/png", signal: controller.signal }),
      );
      clearTimeout(aborting);
      assert.equal(error.code, "ABORTED");
      assert.ok(Date.now() - started < 2500, `aborted after ${Date.now() - started} ms`);
      assert.equal(proxy.of("presign").length, 1);
      assert.ok((await cutAfter(proxy.of("presign")[0])) < 2500);
    });
  });

  describe("multipart concurrency", () => {
    /**
     * Holds every part PUT until none has arrived for a while, then lets them all through: the
     * most held at once is exactly how many the SDK sends in parallel (a fifth would have arrived).
     */
    const gate = () => {
      const held: (() => void)[] = [];
      const batches: number[] = [];
      let inFlight = 0;
      let most = 0;
      let quiet: NodeJS.Timeout | undefined;
      const rule = (x: Exchange): Action => {
        if (x.kind !== "put") return FORWARD;
        inFlight += 1;
        most = Math.max(most, inFlight);
        void x.finished.then(() => (inFlight -= 1));
        const released = new Promise<void>((resolve) => held.push(resolve));
        clearTimeout(quiet);
        quiet = setTimeout(() => {
          batches.push(held.length);
          for (const release of held.splice(0)) release();
        }, 800);
        return { do: "forward", after: released };
      };
      return { rule, batches, most: () => most };
    };

    it("sends 4 parts at once by default, never more", { timeout: 20_000 }, async () => {
      const body = video(4 * 5 * MiB + 1000); // five parts: a fifth in flight would show
      const g = gate();
      proxy.rule = g.rule;
      const result = await sdk("parallel").upload(body, { ownerType: "video", contentType: "video/mp4" });
      assert.equal(result.status, "confirmed");
      assert.equal(proxy.of("put").length, 5);
      assert.equal(g.most(), 4);
      assert.deepEqual(g.batches, [4, 1]);
      assert.deepEqual(await stored(result.key, 64), body.subarray(0, 64));
    });

    it("sends as many as `concurrency` asks", { timeout: 20_000 }, async () => {
      const g = gate();
      proxy.rule = g.rule;
      await sdk("parallel-2", { concurrency: 2 }).upload(video(2 * 5 * MiB + 1000), { ownerType: "video", contentType: "video/mp4" });
      assert.equal(g.most(), 2);
      assert.deepEqual(g.batches, [2, 1]);
    });
  });
});
