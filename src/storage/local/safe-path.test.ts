import assert from "node:assert/strict";
import { join, relative, sep } from "node:path";
import { describe, it } from "node:test";
import { StowageError } from "../../errors.js";
import { keyProblem, resolveInside } from "./safe-path.js";

const ROOT = join(sep, "srv", "stowage", "objects");

function isNotFound(error: unknown): boolean {
  return error instanceof StowageError && error.code === "NOT_FOUND";
}

describe("resolveInside", () => {
  it("resolves plain keys under root/bucket", () => {
    assert.equal(resolveInside(ROOT, "private", "a.txt"), join(ROOT, "private", "a.txt"));
    assert.equal(
      resolveInside(ROOT, "public", "avatars/alice/0f3c.png"),
      join(ROOT, "public", "avatars", "alice", "0f3c.png"),
    );
  });

  it("accepts dots inside a segment and unicode", () => {
    assert.equal(
      resolveInside(ROOT, "my.bucket-1", "a..b/.x/é"),
      join(ROOT, "my.bucket-1", "a..b/.x/é"),
    );
  });

  it("appends the suffix after validation", () => {
    assert.equal(
      resolveInside(ROOT, "private", "a/b", ".json"),
      join(ROOT, "private", "a", "b.json"),
    );
  });

  it("accepts a key of exactly 1024 bytes", () => {
    const key = "é".repeat(512); // 2 bytes each
    const path = resolveInside(ROOT, "private", key);
    assert.equal(relative(ROOT, path), join("private", key));
  });

  it("refuses keys that could leave the bucket or are ambiguous", () => {
    const bad = [
      "",
      "..",
      ".",
      "../x",
      "a/../../x",
      "a/..",
      "/abs",
      "/etc/passwd",
      "a//b",
      "a/",
      "a/./b",
      "./a",
      "a\\b",
      "..\\..\\x",
      "a\u0000b",
      "a\nb",
      "a\rb",
      "a\u007fb",
      "x".repeat(1025),
      `${"é".repeat(512)}x`, // 1025 bytes, 513 characters
    ];
    for (const key of bad) {
      assert.throws(
        () => resolveInside(ROOT, "private", key),
        isNotFound,
        JSON.stringify(key.slice(0, 40)),
      );
    }
  });

  it("refuses bad bucket names", () => {
    for (const bucket of [
      "..",
      ".",
      "A",
      "a",
      "ab-",
      "-ab",
      "a_b",
      "Private",
      "a/b",
      "",
      "x".repeat(64),
    ]) {
      assert.throws(() => resolveInside(ROOT, bucket, "a.txt"), isNotFound, JSON.stringify(bucket));
    }
  });

  it("accepts bucket names of 3 and 63 characters", () => {
    assert.equal(resolveInside(ROOT, "abc", "k"), join(ROOT, "abc", "k"));
    const long = "b".repeat(63);
    assert.equal(resolveInside(ROOT, long, "k"), join(ROOT, long, "k"));
  });
});

describe("keyProblem", () => {
  it("says why a key is refused, and nothing for a plain one", () => {
    assert.equal(keyProblem("avatars/alice/0f3c.png"), undefined);
    assert.equal(keyProblem("a..b/.x/é"), undefined);
    const cases: [string, string][] = [
      ["", "it is empty"],
      ["k".repeat(1025), "it is longer than 1024 bytes"],
      ["é".repeat(513), "it is longer than 1024 bytes"],
      ["/abs", "it starts with '/'"],
      ["docs\\evil.pdf", "it contains a backslash"],
      ["line\nbreak", "it contains a control character"],
      ["a//b", "it has an empty, '.' or '..' segment"],
      ["a/../b", "it has an empty, '.' or '..' segment"],
    ];
    for (const [key, reason] of cases) {
      assert.equal(keyProblem(key), reason, JSON.stringify(key));
      assert.throws(() => resolveInside(ROOT, "private", key), isNotFound, JSON.stringify(key));
    }
  });
});
