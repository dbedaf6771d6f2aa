import contentDisposition from "content-disposition";

/**
 * `Content-Disposition: attachment` for a stored filename (RFC 6266). The `filename=` part is
 * kept to plain ASCII (accents folded, anything else `_`) because header values beyond ASCII
 * are read differently by different clients; the exact name travels in `filename*` (RFC 5987).
 */
export function attachmentDisposition(filename: string): string {
  const ascii = filename
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .replace(/[^\x20-\x7e]/g, "_");
  return contentDisposition(filename, { fallback: ascii });
}
