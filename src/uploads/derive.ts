import { Readable } from "node:stream";
import { isDerivativeError } from "../derivatives/derivative-error.js";
import { canRenderFrom } from "../derivatives/input-types.js";
import { derivativeKey } from "../derivatives/keys.js";
import { renderDerivative } from "../derivatives/render.js";
import { isStowageError } from "../errors.js";
import type { DerivativeRecord } from "../store/derivative-store.js";
import type { UploadContext } from "./context.js";
import { isServable } from "./lifecycle.js";

/**
 * Makes the derivatives an upload's policy declares (fixed presets from the server's config,
 * never chosen by a client), after confirm, from the `upload.confirmed` event: each stored
 * beside the original under a server-made key, recorded, and announced (`derivative.ready`).
 * An image the renderer refuses (too many pixels, corrupt, not what it claims) fails that
 * derivative only, recorded with why; the upload stays confirmed. Storage or database trouble
 * throws, and the event is handed over again: presets already recorded are not made twice.
 */
export async function makeDerivatives(ctx: UploadContext, id: string): Promise<number> {
  const upload = await ctx.store.findUpload(id);
  if (upload === undefined || !isServable(upload.status)) return 0;
  const presets = Object.entries(ctx.policies.get(upload.ownerType)?.derivatives ?? {});
  if (presets.length === 0 || !canRenderFrom(upload.contentType)) return 0;
  const done = new Set((await ctx.store.derivatives.listFor([id])).map((d) => d.name));
  const todo = presets.filter(([name]) => !done.has(name));
  if (todo.length === 0) return 0;

  const chunks: Buffer[] = [];
  for await (const chunk of await ctx.driver.read({ bucket: upload.bucket, key: upload.key, ifMatch: upload.etag })) {
    chunks.push(chunk as Buffer);
  }
  const input = Buffer.concat(chunks);
  let made = 0;
  for (const [name, preset] of todo) {
    const base = { uploadId: id, name, bucket: upload.bucket, key: derivativeKey({ uploadId: id, preset: name, format: preset.format }) };
    let derivative: DerivativeRecord;
    try {
      const out = await renderDerivative({ input, contentType: upload.contentType, preset });
      const put = () =>
        ctx.driver.put({
          bucket: base.bucket,
          key: base.key,
          body: Readable.from([out.body]),
          contentLength: out.body.length,
          contentType: out.contentType,
          cacheControl: ctx.policies.get(upload.ownerType)?.cacheControl,
        });
      // A run killed between storing and recording left its object: it is replaced.
      await put().catch(async (error: unknown) => {
        if (!isStowageError(error) || error.code !== "OBJECT_EXISTS") throw error;
        await ctx.driver.delete({ bucket: base.bucket, key: base.key });
        await put();
      });
      derivative = { ...base, state: "ready", contentType: out.contentType, width: out.width, height: out.height, size: out.body.length,
        error: undefined, createdAt: ctx.now() };
    } catch (error) {
      if (!isDerivativeError(error)) throw error;
      derivative = { ...base, state: "failed", contentType: undefined, width: undefined, height: undefined, size: undefined,
        error: `${error.code}: ${error.message}`, createdAt: ctx.now() };
    }
    const recorded = await ctx.store.derivatives.record({ derivative, now: ctx.now() });
    // Deleted (or expired) while rendering: its derivative is nobody's.
    if (!recorded && derivative.state === "ready") await ctx.driver.delete({ bucket: base.bucket, key: base.key });
    if (recorded) {
      ctx.committed();
      if (derivative.state === "ready") made++;
    }
  }
  return made;
}
