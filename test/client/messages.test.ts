import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { StowageClientError } from "../../packages/client/src/errors.js";
import { bytes, describeUploadError } from "../../packages/client/src/messages.js";
import { isLinkClosed } from "../../page/api.js";
import { explain, explainLink, mayRetry } from "../../page/messages.js";

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

describe("the upload page's words for an upload link's holder (page/messages.ts)", () => {
  const refusal = (status: number, code: string, details?: Record<string, unknown>) =>
    new StowageClientError("refused", code, "The server's own sentence.", { status, details });
  const viaLink = { name: "contract.pdf", size: 6_000_000, ownerType: "signed_pdf", origin: "https://up.example", viaLink: true };

  it("says why the link takes nothing, and who can help, for each refusal of the link itself", () => {
    const closed = [refusal(410, "LINK_EXPIRED"), refusal(410, "LINK_REVOKED"), refusal(403, "LINK_USED_UP"), refusal(401, "UNAUTHENTICATED")];
    assert.deepEqual(closed.map(isLinkClosed), [true, true, true, true]);
    assert.deepEqual(closed.map(explainLink), [
      "This upload link has expired, so it takes no more files. Ask whoever sent it to you for a new one.",
      "This upload link was withdrawn by whoever sent it, so it takes no more files. Ask them for a new one if you still need to send something.",
      "This upload link has been used as many times as it allows, so it takes no more files. Ask whoever sent it to you for a new one.",
      "This upload link is not valid. Check that you opened the whole address you were sent (a link cut short does not work), " +
      "or ask whoever sent it to you for a new one.",
    ]);
    assert.equal(isLinkClosed(refusal(403, "FORBIDDEN")), false, "a refusal of one file is not the link's end");
    assert.equal(explain(refusal(403, "LINK_USED_UP"), viaLink), `contract.pdf was not uploaded. ${explainLink(refusal(403, "LINK_USED_UP"))}`);
    assert.deepEqual(closed.map(mayRetry), [false, false, false, false], "no use trying again");
  });

  it("names what the link takes, not the owner type, and never the creator's quota figures", () => {
    assert.equal(
      explain(refusal(413, "FILE_TOO_LARGE", { size: 6_000_000, maxBytes: 5_000_000 }), viaLink),
      "contract.pdf is 6 MB, but this link takes files of at most 5 MB.",
    );
    assert.equal(
      explain(refusal(415, "CONTENT_TYPE_NOT_ALLOWED", { contentType: "image/png", allowedTypes: ["application/pdf"] }), viaLink),
      "contract.pdf is a PNG image (image/png), which this link does not take. It takes: PDF (application/pdf).",
    );
    const full = refusal(403, "QUOTA_EXCEEDED", { usedBytes: 90_000_000, reservedBytes: 0, limitBytes: 100_000_000, rejectedBytes: 6_000_000 });
    assert.equal(explain(full, viaLink), "There is no room left for contract.pdf (6 MB) where this link keeps files. Let whoever sent you the link know.");
    assert.match(explain(full, { ...viaLink, viaLink: false }), /you use 90 MB of your 100 MB/, "a signed-in user still gets the figures");
  });
});
