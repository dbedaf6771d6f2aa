import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { StowageError } from "../errors.js";
import { type KeyVariables, renderKey, safeSegment, templateProblems } from "./key-template.js";

const HASHED = /^h-[0-9a-f]{32}$/;

function vars(overrides: Partial<KeyVariables> = {}): KeyVariables {
  return {
    userId: "alice",
    ownerId: "room-7",
    id: "0f3c",
    ext: "png",
    now: new Date("2024-03-05T12:00:00Z"),
    ...overrides,
  };
}

describe("renderKey", () => {
  it("substitutes every variable", () => {
    assert.equal(
      renderKey("{yyyy}/{mm}/{dd}/{userId}/{ownerId}/{id}.{ext}", vars()),
      "2024/03/05/alice/room-7/0f3c.png",
    );
  });

  it("pads month and day and uses UTC, not local time", () => {
    const previous = process.env.TZ;
    process.env.TZ = "America/New_York"; // so local-time getters would give another day
    try {
      // 23:30 on Dec 31 in New York is already Jan 1 in UTC.
      const now = new Date("2023-12-31T23:30:00-05:00");
      assert.equal(now.getDate(), 31); // the local day really differs
      assert.equal(renderKey("{yyyy}-{mm}-{dd}/{id}", vars({ now })), "2024-01-01/0f3c");
      const march = new Date("2024-03-05T01:00:00Z"); // Mar 4 in New York
      assert.equal(renderKey("{yyyy}/{mm}/{dd}", vars({ now: march })), "2024/03/05");
    } finally {
      if (previous === undefined) delete process.env.TZ;
      else process.env.TZ = previous;
    }
  });

  it("throws OWNER_ID_REQUIRED when the template needs an absent ownerId", () => {
    assert.throws(
      () => renderKey("chat/{ownerId}/{id}", vars({ ownerId: undefined })),
      (error: unknown) => error instanceof StowageError && error.code === "OWNER_ID_REQUIRED",
    );
  });

  it("does not need an ownerId when the template does not use it", () => {
    assert.equal(renderKey("a/{userId}/{id}", vars({ ownerId: undefined })), "a/alice/0f3c");
  });

  it("hashes a hostile userId into one segment", () => {
    const key = renderKey("avatars/{userId}/{id}.{ext}", vars({ userId: "../../etc" }));
    const [, segment] = key.split("/");
    assert.match(segment ?? "", HASHED);
  });
});

describe("safeSegment", () => {
  it("keeps plain values readable", () => {
    for (const value of ["alice", "user_42", "a.b@example.com", "x-y", "A9", "a..b"]) {
      assert.equal(safeSegment(value), value);
    }
  });

  it("hashes anything that could change the shape of a key", () => {
    const hostile = [
      "../x",
      "a/b",
      "..",
      ".",
      ".hidden",
      "",
      "héllo",
      "用户",
      "a\u0000b",
      "a\nb",
      "a\\b",
      "a b",
      "x".repeat(200),
    ];
    for (const value of hostile) {
      assert.match(safeSegment(value), HASHED, JSON.stringify(value));
    }
  });

  it("is stable and distinguishes different inputs", () => {
    assert.equal(safeSegment("../x"), safeSegment("../x"));
    assert.notEqual(safeSegment("../x"), safeSegment("../y"));
  });

  it("keeps 128 plain characters but hashes 129", () => {
    assert.equal(safeSegment("a".repeat(128)), "a".repeat(128));
    assert.match(safeSegment("a".repeat(129)), HASHED);
  });
});

describe("templateProblems", () => {
  it("accepts the built-in shapes", () => {
    assert.deepEqual(templateProblems("avatars/{userId}/{id}.{ext}"), []);
    assert.deepEqual(templateProblems("signed-pdfs/{yyyy}/{mm}/{dd}/{id}.pdf"), []);
  });

  it("reports an unknown variable", () => {
    assert.deepEqual(templateProblems("a/{user}/{id}"), ["unknown variable {user}"]);
  });

  it("reports a missing {id}", () => {
    const problems = templateProblems("a/{userId}.{ext}");
    assert.equal(problems.length, 1);
    assert.match(problems[0] ?? "", /\{id\}/);
  });

  it("reports a leading slash and '.' or '..' segments", () => {
    for (const template of ["/a/{id}", "a/../{id}", "../{id}", "a/./{id}"]) {
      const problems = templateProblems(template);
      assert.equal(problems.length, 1, template);
      assert.match(problems[0] ?? "", /relative path/, template);
    }
  });

  it("reports a leading dot: keys starting with one are Stowage's own (derivatives, probes)", () => {
    for (const template of [".derivatives/{id}/thumb.webp", ".{userId}/{id}", ".stowage-probe/{id}"]) {
      assert.deepEqual(templateProblems(template), ["may not start with '.': such keys are Stowage's own (derivatives, probes)"], template);
    }
    assert.deepEqual(templateProblems("a/.hidden/{id}"), []);
  });
});

describe("renderKey with hostile ids (property)", () => {
  const hostile = ["..", ".", "../..", "/", "/etc/passwd", "a/../../b", "..\\..", "\u0000", "\n"];
  hostile.push("%2e%2e", "../".repeat(50), "é/..", " ", "", "\u202e..", "a/".repeat(100));
  const templates = ["avatars/{userId}/{id}.{ext}", "chat/{ownerId}/{userId}/{yyyy}/{id}"];

  it("never yields '..' segments, a leading '/' or extra '/'", () => {
    for (const template of templates) {
      const slashes = template.split("/").length - 1;
      for (const userId of hostile) {
        for (const ownerId of hostile) {
          const key = renderKey(template, vars({ userId, ownerId }));
          const label = `${template} ${JSON.stringify({ userId, ownerId })} → ${key}`;
          assert.ok(!key.startsWith("/"), label);
          assert.ok(!key.split("/").includes(".."), label);
          assert.ok(!key.split("/").includes("."), label);
          assert.equal(key.split("/").length - 1, slashes, label);
        }
      }
    }
  });
});
