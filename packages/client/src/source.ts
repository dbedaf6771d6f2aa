/** A stretch of the input: what one PUT (a whole small file, or one part) sends. */
export interface ByteRange {
  readonly size: number;
  /** The bytes as a Blob, where the platform has them so (browsers send it with XHR). */
  blob?(): Blob;
  /** A fresh stream of the bytes, for each attempt. */
  stream(): ReadableStream<Uint8Array>;
}

/** What is being uploaded, with the size known up front (the URL is signed for it). */
export interface UploadSource {
  readonly size: number;
  readonly name: string | undefined;
  readonly type: string | undefined;
  readonly lastModified: number | undefined;
  /** Bytes [start, end). Sources that can only be read once ask for ranges in order. */
  range(start: number, end: number): Promise<ByteRange>;
}

function blobRange(blob: Blob): ByteRange {
  return { size: blob.size, blob: () => blob, stream: () => blob.stream() };
}

/** A `File` or `Blob` (browsers, and Node ≥ 20 `Blob`/`File`). */
export function blobSource(blob: Blob): UploadSource {
  const file = blob as Partial<File>;
  return {
    size: blob.size,
    name: typeof file.name === "string" && file.name !== "" ? file.name : undefined,
    type: blob.type === "" ? undefined : blob.type,
    lastModified: typeof file.lastModified === "number" ? file.lastModified : undefined,
    range: (start, end) => Promise.resolve(blobRange(blob.slice(start, end))),
  };
}

/**
 * A stream that can be read only once, with its size known: each range is read (in order) into
 * memory and kept until its upload is done, so retries resend it. At most `partSize` ×
 * concurrency bytes are held.
 */
export function streamSource(
  stream: ReadableStream<Uint8Array>,
  info: { size: number; name?: string | undefined; type?: string | undefined },
): UploadSource {
  const reader = stream.getReader();
  let position = 0;
  let pending: Uint8Array | undefined;
  let queue = Promise.resolve();
  const read = async (start: number, end: number): Promise<ByteRange> => {
    if (start < position) throw new Error("A stream source is read once, in order.");
    const chunks: Uint8Array[] = [];
    let want = end - start;
    let skip = start - position;
    while (want > 0) {
      let chunk = pending;
      pending = undefined;
      if (chunk === undefined) {
        const next = await reader.read();
        if (next.done) throw new Error(`The stream ended after ${position} of ${info.size} bytes.`);
        chunk = next.value;
      }
      if (skip > 0) {
        const skipped = Math.min(skip, chunk.byteLength);
        skip -= skipped;
        position += skipped;
        if (skipped < chunk.byteLength) pending = chunk.subarray(skipped);
        continue;
      }
      const taken = chunk.subarray(0, Math.min(want, chunk.byteLength));
      if (taken.byteLength < chunk.byteLength) pending = chunk.subarray(taken.byteLength);
      chunks.push(taken);
      want -= taken.byteLength;
      position += taken.byteLength;
    }
    return blobRange(new Blob(chunks as BlobPart[]));
  };
  return {
    size: info.size,
    name: info.name,
    type: info.type,
    lastModified: undefined,
    // Serialized: two parts asked for at once are still read one after the other.
    range: (start, end) => {
      const result = queue.then(() => read(start, end));
      queue = result.then(() => undefined, () => undefined);
      return result;
    },
  };
}
