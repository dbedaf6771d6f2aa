import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import rangeParser from "range-parser";
import { operations } from "../../api/operations.js";
import { StowageError } from "../../errors.js";
import { type ConnectionLimits, guardBody } from "../connection-limits.js";
import type { LocalDriver } from "../../storage/local/local-driver.js";
import type { App } from "../types.js";

const { putObject, getObject } = operations;
const DEFAULT_CACHE_CONTROL = "max-age=86400";
/** The slowest average an upload to the local endpoint may keep (bytes per second). */
export const MIN_UPLOAD_RATE = 1024;

/** The request timeout, plus the time the body takes at MIN_UPLOAD_RATE (within what a timer holds). */
function uploadDeadlineMs(limits: ConnectionLimits, contentLength: number): number {
  return Math.min(limits.requestTimeoutMs + Math.ceil(contentLength / MIN_UPLOAD_RATE) * 1000, 2 ** 31 - 1);
}

/** A header Node may hand over as a list (one it does not join): a repeated one is no single value. */
function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(", ") : value;
}

/**
 * `PUT|GET|HEAD /storage/{bucket}/{key}`: the object endpoint of the local driver, standing in
 * for an S3 bucket. Uploads arrive here directly from clients with a signed URL; the bytes are
 * streamed to disk, never buffered, and hashed on the way when they come with a Content-MD5. Served objects carry `nosniff` and a sandboxing CSP so an
 * uploaded file can never run script on this origin.
 */
export function registerLocalObjects(app: App, driver: LocalDriver, limits: ConnectionLimits): void {
  void app.register(async (plugin) => {
    const scope = plugin.withTypeProvider<TypeBoxTypeProvider>();
    // Take the body as the raw stream, whatever its type: the driver checks it against the signature.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("*", (_request, _payload, done) => done(null));

    scope.put(
      putObject.path,
      { schema: putObject.schema },
      async (request, reply) => {
        const { bucket, "*": key } = request.params;
        const length = request.headers["content-length"];
        if (request.headers["transfer-encoding"] !== undefined && length === undefined) {
          throw new StowageError(
            "LENGTH_REQUIRED",
            "Content-Length is required; chunked uploads are not accepted.",
          );
        }
        const contentLength = length === undefined ? undefined : Number(length);
        const { contentMd5 } = driver.authorize({
          method: "PUT",
          bucket,
          key,
          query: request.query,
          contentType: request.headers["content-type"],
          contentLength,
          cacheControl: request.headers["cache-control"],
          contentMd5: header(request.headers["content-md5"]),
        });
        const { uploadId, partNumber } = request.query;
        // A body that stops moving is cut (408) and its temp file removed; one that keeps
        // moving may take as long as it averages MIN_UPLOAD_RATE, so a trickle cannot hold the
        // connection forever either.
        const body = guardBody(request.raw, { stallMs: limits.stallTimeoutMs, deadlineMs: uploadDeadlineMs(limits, contentLength ?? 0) });
        try {
          if (uploadId !== undefined) {
            const etag = await driver.putPart({
              bucket,
              key,
              uploadId,
              partNumber: Number(partNumber),
              body,
              contentLength: contentLength ?? 0,
              contentMd5,
            });
            return reply.status(200).header("ETag", etag).send();
          }
          const stat = await driver.put({
            bucket,
            key,
            body,
            contentType: request.headers["content-type"] ?? "application/octet-stream",
            contentLength: contentLength ?? 0,
            cacheControl: request.headers["cache-control"],
            contentMd5,
          });
          return reply.status(200).header("ETag", stat.etag).send();
        } finally {
          // Whatever ended the upload, the guard's timers go with it.
          body.destroy();
        }
      },
    );

    scope.get(
      getObject.path,
      { schema: getObject.schema },
      async (request, reply) => {
        const { bucket, "*": key } = request.params;
        const { disposition } = driver.authorize({
          method: "GET",
          bucket,
          key,
          query: request.query,
        });
        const stat = await driver.stat({ bucket, key });
        if (stat === undefined) throw new StowageError("NOT_FOUND", "No such object.");
        void reply
          .header("Content-Type", stat.contentType ?? "application/octet-stream")
          .header(
            "Cache-Control",
            (await driver.cacheControlOf({ bucket, key })) ?? DEFAULT_CACHE_CONTROL,
          )
          .header("ETag", stat.etag)
          .header("Last-Modified", stat.lastModified.toUTCString())
          .header("Accept-Ranges", "bytes")
          .header("X-Content-Type-Options", "nosniff")
          .header("Content-Security-Policy", "default-src 'none'; sandbox");
        if (disposition !== undefined) void reply.header("Content-Disposition", disposition);
        if (request.headers["if-none-match"] === stat.etag) return reply.status(304).send();

        const ranges =
          request.headers.range === undefined
            ? undefined
            : rangeParser(stat.size, request.headers.range);
        if (ranges === -1) {
          void reply.header("Content-Range", `bytes */${stat.size}`);
          throw new StowageError("RANGE_NOT_SATISFIABLE", "The range is outside the object.");
        }
        // One range is served as 206; several (rare, multipart/byteranges) or a malformed header as the whole object.
        const range = Array.isArray(ranges) && ranges.length === 1 ? ranges[0] : undefined;
        if (range !== undefined && ranges !== -2) {
          return reply
            .status(206)
            .header("Content-Range", `bytes ${range.start}-${range.end}/${stat.size}`)
            .header("Content-Length", String(range.end - range.start + 1))
            .send(driver.openRead({ bucket, key }, range));
        }
        return reply
          .header("Content-Length", String(stat.size))
          .send(driver.openRead({ bucket, key }));
      },
    );
  });
}
