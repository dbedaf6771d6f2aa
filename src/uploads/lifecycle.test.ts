import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { UPLOAD_STATUSES, type UploadStatus } from "./status.js";
import {
  canTransition,
  isAwaitingUpload,
  isFinal,
  isFinished,
  isListed,
  isLive,
  isRefused,
  isServable,
  sourcesOf,
  statusesWhere,
  TRANSITIONS,
} from "./lifecycle.js";

/** The state machine as documented, written out independently of the module's table. */
const EXPECTED_MOVES: readonly [UploadStatus, UploadStatus][] = [
  ["pending", "scanning"],
  ["pending", "confirmed"],
  ["pending", "rejected"],
  ["pending", "deleted"],
  ["pending", "expired"],
  ["confirmed", "deleted"],
  ["confirmed", "expired"],
  ["rejected", "deleted"],
  ["scanning", "confirmed"],
  ["scanning", "infected"],
  ["scanning", "rejected"],
  ["scanning", "deleted"],
  ["infected", "deleted"],
];

describe("upload lifecycle", () => {
  it("has a table entry for every status", () => {
    assert.deepEqual(Object.keys(TRANSITIONS).sort(), [...UPLOAD_STATUSES].sort());
  });

  it("allows exactly the documented moves", () => {
    for (const from of UPLOAD_STATUSES) {
      for (const to of UPLOAD_STATUSES) {
        const expected = EXPECTED_MOVES.some(([f, t]) => f === from && t === to);
        assert.equal(canTransition(from, to), expected, `${from} → ${to}`);
      }
    }
  });

  it("reaches confirmed and rejected only from pending or scanning, infected only from scanning", () => {
    assert.deepEqual(sourcesOf("confirmed").sort(), ["pending", "scanning"]);
    assert.deepEqual(sourcesOf("rejected").sort(), ["pending", "scanning"]);
    assert.deepEqual(sourcesOf("infected"), ["scanning"]);
  });

  it("reaches deleted from every state that is not final", () => {
    assert.deepEqual(sourcesOf("deleted").sort(), ["confirmed", "infected", "pending", "rejected", "scanning"]);
  });

  it("calls finished exactly deleted, expired, rejected and infected: no live state among them", () => {
    assert.deepEqual(statusesWhere(isFinished).sort(), ["deleted", "expired", "infected", "rejected"]);
    for (const status of statusesWhere(isFinished)) assert.equal(isLive(status), false, status);
  });

  it("reaches expired from pending and confirmed, never from rejected", () => {
    assert.deepEqual(sourcesOf("expired").sort(), ["confirmed", "pending"]);
  });

  it("never returns to pending", () => {
    assert.deepEqual(sourcesOf("pending"), []);
  });

  it("lets nothing leave deleted or expired", () => {
    for (const to of UPLOAD_STATUSES) {
      assert.equal(canTransition("deleted", to), false, `deleted → ${to}`);
      assert.equal(canTransition("expired", to), false, `expired → ${to}`);
    }
  });

  it("treats only deleted and expired as final", () => {
    const final = UPLOAD_STATUSES.filter(isFinal);
    assert.deepEqual(final.sort(), ["deleted", "expired"]);
  });

  it("serves only confirmed uploads, never scanning or refused ones", () => {
    assert.deepEqual(statusesWhere(isServable), ["confirmed"]);
    assert.deepEqual(statusesWhere(isLive).sort(), ["confirmed", "pending", "scanning"]);
    assert.deepEqual(statusesWhere(isRefused).sort(), ["infected", "rejected"]);
    assert.deepEqual(statusesWhere(isListed).sort(), UPLOAD_STATUSES.filter((s) => s !== "deleted").sort());
    assert.deepEqual(statusesWhere(isAwaitingUpload), ["pending"]);
  });

  it("has no self-transitions", () => {
    for (const status of UPLOAD_STATUSES)
      assert.equal(canTransition(status, status), false, status);
  });
});
