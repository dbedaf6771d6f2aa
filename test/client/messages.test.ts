import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { StowageClientError } from "../../packages/client/src/errors.js";
import { bytes, describeUploadError } from "../../packages/client/src/messages.js";

const refused = (code: string, message: string, details?: Record<string, unknown>) =>
  new StowageClientError("refused", code, message, { status: 413, details });

describe("describeUploadError", () => {
  it("words the server's figures in decimal units, as the policies write their limits", () => {
    assert.deepEqual([bytes(999), bytes(1000), bytes(1_500_000), bytes(5_000_000), bytes(2_340_000_000)], [
      "999 bytes",
      "1 kB",
      "1.5 MB",
      "5 MB",
      "2.3 GB",
    ]);
    assert.equal(
      describeUploadError(refused("FILE_TOO_LARGE", "The file is larger than 5000000 bytes.", { size: 6_000_000, maxBytes: 5_000_000 })),
      "This file is 6 MB; the limit is 5 MB.",
    );
    assert.equal(
      describeUploadError(refused("QUOTA_EXCEEDED", "x", { usedBytes: 900_000, reservedBytes: 50_000, limitBytes: 1_000_000, rejectedBytes: 200_000 })),
      "Not enough storage left: 950 kB of 1 MB is in use and this file needs 200 kB.",
    );
  });

  it("names the refused type and what is allowed", () => {
    const error = refused("CONTENT_TYPE_NOT_ALLOWED", "image/gif is not allowed for avatar.", {
      contentType: "image/gif",
      allowedTypes: ["image/jpeg", "image/png"],
    });
    assert.equal(describeUploadError(error), "image/gif files are not accepted here (allowed: image/jpeg, image/png).");
  });

  it("keeps the server's message for other codes, and says what to do about a network failure", () => {
    assert.equal(describeUploadError(refused("CONTENT_TYPE_MISMATCH", "Refused: the bytes are text/plain.")), "Refused: the bytes are text/plain.");
    assert.equal(describeUploadError(refused("FILE_TOO_LARGE", "too big")), "This file is larger than allowed here.");
    const network = new StowageClientError("network", "NETWORK_ERROR", "Uploading part 2 failed 6 times: the network or the store could not be reached.");
    assert.equal(
      describeUploadError(network),
      "The upload could not get through: Uploading part 2 failed 6 times: the network or the store could not be reached. Check the connection and retry.",
    );
  });
});
