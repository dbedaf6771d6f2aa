/** A derivative (a thumbnail) made from an upload: where it is stored, or why it could not be made. */
export interface DerivativeRecord {
  uploadId: string;
  name: string;
  state: "ready" | "failed";
  bucket: string;
  key: string;
  contentType: string | undefined;
  width: number | undefined;
  height: number | undefined;
  size: number | undefined;
  error: string | undefined;
  createdAt: Date;
}

export interface DerivativeStore {
  /**
   * Records a derivative (replacing an earlier attempt's row); a ready one writes
   * `derivative.ready` in the same transaction. Refused (false) when the upload is no longer
   * servable: its derivative object is then the caller's to delete.
   */
  record(input: { derivative: DerivativeRecord; now: Date }): Promise<boolean>;
  /** The derivatives of these uploads. */
  listFor(uploadIds: readonly string[]): Promise<DerivativeRecord[]>;
  /** Of these keys in these buckets, the ones a derivative row names (the orphan check keeps them). */
  keptKeys(input: { buckets: readonly string[]; keys: readonly string[] }): Promise<Set<string>>;
}
