/**
 * ClamdScanner against the real clamd (Debian's clamav-daemon, started by scripts/test.sh with
 * one private test signature), and against fake TCP servers for the ways clamd can fail us.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync, createReadStream } from "node:fs";
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, describe, it } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { ClamdScanner } from "../../src/scanning/clamd.js";
import { ScannerUnavailableError } from "../../src/scanning/scanner.js";
import { clamdEnv, clamdScanner, startClamd } from "../helpers/clamd.js";

const MiB = 1024 * 1024;
const CHUNK = 64 * 1024;

/** `total` bytes of one repeated random MiB, made as they are read (never the whole body at once). */
function repeated(total: number, counter = { produced: 0 }): Readable {
  const block = randomBytes(MiB);
  return Readable.from(
    (function* () {
      for (let at = 0; at < total; at += MiB) {
        const piece = block.subarray(0, Math.min(MiB, total - at));
        counter.produced += piece.length;
        yield piece;
      }
    })(),
  );
}

/** A TCP server on a free port that does `onSocket` with every connection; closed in `after`. */
async function fakeClamd(onSocket: (socket: Socket) => void): Promise<{ server: Server; port: number; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.unref(); // a test cancelled by its timeout must not keep the run alive (nor must the server)
    socket.on("error", () => {}); // the client destroys its end: a reset here is expected
    socket.on("close", () => sockets.delete(socket));
    onSocket(socket);
  });
  server.listen(0, "127.0.0.1").unref();
  await once(server, "listening");
  after(() => {
    for (const socket of sockets) socket.destroy();
    server.close();
  });
  return { server, port: (server.address() as AddressInfo).port, sockets };
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, "close");
  return port;
}

// Timeouts: a scanner that hangs must fail its test, not the whole run.
describe("ClamdScanner against clamd", { timeout: 60_000 }, () => {
  const env = clamdEnv();
  const scanner = clamdScanner();

  it("answers a ping", async () => {
    await scanner.ping();
  });

  it("finds a clean file clean", async (t) => {
    const dir = mkdtempSync(join(tmpdir(), "stowage-clamd-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, "clean.bin");
    writeFileSync(file, randomBytes(3 * MiB));
    assert.deepEqual(await scanner.scan(createReadStream(file)), { kind: "clean" });
  });

  it("finds the test pattern split across two INSTREAM chunks in the middle of 6 MiB, by its exact name", async () => {
    const body = randomBytes(6 * MiB);
    // 3 MiB is a chunk boundary (64 KiB chunks) and a piece boundary: half the pattern each side.
    const at = 3 * MiB - Math.floor(env.pattern.length / 2);
    body.write(env.pattern, at, "latin1");
    const pieces = [body.subarray(0, 3 * MiB), body.subarray(3 * MiB)];
    const chunked = clamdScanner({ chunkBytes: CHUNK });
    assert.equal((3 * MiB) % CHUNK, 0);
    assert.deepEqual(await chunked.scan(Readable.from(pieces)), { kind: "infected", signature: env.signature });
    // The same bytes without the pattern are clean: the verdict came from the pattern.
    body.fill(0, at, at + env.pattern.length);
    assert.deepEqual(await scanner.scan(Readable.from([body])), { kind: "clean" });
  });

  it("takes exactly clamd's StreamMaxLength, and says too-large one byte over it", async () => {
    assert.deepEqual(await scanner.scan(repeated(env.streamMaxBytes)), { kind: "clean" });
    assert.deepEqual(await scanner.scan(repeated(env.streamMaxBytes + 1)), { kind: "too-large" });
  });

  it("says too-large past its own streamMaxBytes without sending the rest (clamd would take it)", async () => {
    const strict = clamdScanner({ streamMaxBytes: MiB });
    assert.deepEqual(await strict.scan(repeated(MiB)), { kind: "clean" });
    const counter = { produced: 0 };
    assert.deepEqual(await strict.scan(repeated(8 * MiB, counter)), { kind: "too-large" });
    // The first piece past the limit, and the one Readable.from has read ahead by then.
    assert.ok(counter.produced <= 3 * MiB, `read ${counter.produced / MiB} MiB of the body`);
  });

  it("reads clamd's own size-limit answer when it is not told the limit", async (t) => {
    // A small clamd of our own: the overflowing chunk and the end marker then reach clamd together,
    // before it answers and closes (with a big body our next write would race its close).
    const small = startClamd("64K");
    t.after(() => small.stop());
    const untold = new ClamdScanner({ host: small.host, port: small.port, timeoutMs: 10_000 });
    for (let i = 0; i < 5; i++) {
      const verdict = await untold.scan(Readable.from([Buffer.alloc(64 * 1024, 1), Buffer.from("x")]));
      assert.deepEqual(verdict, { kind: "too-large" });
    }
    assert.deepEqual(await untold.scan(Readable.from([Buffer.alloc(64 * 1024, 1)])), { kind: "clean" });
  });
});

describe("ClamdScanner when clamd fails", { timeout: 20_000 }, () => {
  it("rejects quickly with ScannerUnavailableError when nothing listens", async () => {
    const scanner = new ClamdScanner({ host: "127.0.0.1", port: await freePort(), timeoutMs: 10_000 });
    const started = performance.now();
    await assert.rejects(scanner.scan(Readable.from([Buffer.from("x")])), (error: unknown) => {
      assert.ok(error instanceof ScannerUnavailableError);
      assert.equal((error.cause as NodeJS.ErrnoException).code, "ECONNREFUSED");
      return true;
    });
    await assert.rejects(scanner.ping(), ScannerUnavailableError);
    assert.ok(performance.now() - started < 1000, "no waiting for the timeout");
  });

  it("rejects with ScannerUnavailableError after timeoutMs when clamd accepts and never answers", async () => {
    const { port } = await fakeClamd((socket) => socket.resume());
    const scanner = new ClamdScanner({ host: "127.0.0.1", port, timeoutMs: 300 });
    for (const attempt of [() => scanner.scan(Readable.from([Buffer.from("x")])), () => scanner.ping()]) {
      const started = performance.now();
      await assert.rejects(attempt(), (error: unknown) => error instanceof ScannerUnavailableError && /made no progress for 300 ms/.test(error.message));
      const took = performance.now() - started;
      assert.ok(took >= 290 && took < 1300, `rejected after ${took.toFixed(0)} ms`);
    }
  });

  it("streams with backpressure: against a clamd that stops reading, it stops producing and times out", async () => {
    const { port } = await fakeClamd((socket) => socket.pause());
    const scanner = new ClamdScanner({ host: "127.0.0.1", port, timeoutMs: 500 });
    const counter = { produced: 0 };
    await assert.rejects(scanner.scan(repeated(256 * MiB, counter)), ScannerUnavailableError);
    // What the kernel's socket buffers hold on loopback (a few MiB), not the 256 MiB body.
    assert.ok(counter.produced < 32 * MiB, `read ${counter.produced / MiB} MiB of the body`);
  });

  it("rejects with ScannerUnavailableError on a close without a reply, a cut reply and a reply it does not know", async () => {
    const replies = ["", "stream: O", "stream: Some error ERROR\0", "UNKNOWN COMMAND\0"];
    for (const reply of replies) {
      const { port } = await fakeClamd((socket) => {
        socket.resume();
        socket.end(reply);
      });
      const scanner = new ClamdScanner({ host: "127.0.0.1", port, timeoutMs: 5_000 });
      await assert.rejects(scanner.scan(Readable.from([Buffer.from("x")])), ScannerUnavailableError, JSON.stringify(reply));
    }
  });

  it("closes its connection once it has the reply, even when clamd keeps it open", async () => {
    const { port, sockets } = await fakeClamd((socket) => {
      socket.resume();
      socket.write("stream: OK\0");
    });
    const scanner = new ClamdScanner({ host: "127.0.0.1", port, timeoutMs: 5_000 });
    assert.deepEqual(await scanner.scan(Readable.from([Buffer.from("x")])), { kind: "clean" });
    const [socket] = sockets;
    // The timer also keeps the run alive while we wait: the fake server's sockets do not.
    if (socket !== undefined) await Promise.race([once(socket, "close"), delay(2_000).then(() => assert.fail("the scanner left its socket open"))]);
    assert.equal(sockets.size, 0);
  });

  it("rejects with the abort reason, not ScannerUnavailableError, when the caller aborts", async () => {
    const { port } = await fakeClamd((socket) => socket.resume());
    const scanner = new ClamdScanner({ host: "127.0.0.1", port, timeoutMs: 10_000 });
    const signal = AbortSignal.timeout(200);
    await assert.rejects(scanner.scan(repeated(4 * MiB), { signal }), (error: unknown) => {
      assert.ok(!(error instanceof ScannerUnavailableError));
      assert.equal((error as Error).name, "TimeoutError");
      return true;
    });
  });
});
