import type { ObjectRef, StorageDriver } from "../../src/storage/driver.js";

/** Up to `length` bytes from the start of a stored object, through the driver; fails if it is not there. */
export async function storedBytes(driver: StorageDriver, ref: ObjectRef & { length: number }): Promise<Buffer> {
  const head = await driver.readHead(ref);
  if (head === undefined) throw new Error(`no object at ${ref.bucket}/${ref.key}`);
  return Buffer.from(head.bytes);
}
