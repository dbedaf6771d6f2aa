import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ApolloClient, gql, HttpLink, InMemoryCache } from "@apollo/client";
import { PNG } from "../helpers/fixtures.js";
import { putPresigned } from "../helpers/http.js";
import { startStowage, type TestServer } from "../helpers/server.js";
import { graphql } from "../helpers/surfaces.js";

const GENERATE = "mutation($f: FileInfo!) { generateUploadUrl(fileInfo: $f) { uploadId objectKey kind url headers { name value } } }";
const avatar = { ownerType: "avatar", filename: "me.png", contentType: "image/png", size: PNG.length };

async function presignAndPut(server: TestServer, user: string) {
  const { body } = await graphql(server, user, GENERATE, { f: avatar });
  const ticket = body.data.generateUploadUrl;
  const headers = Object.fromEntries(ticket.headers.map((h: { name: string; value: string }) => [h.name, h.value]));
  assert.equal((await putPresigned({ url: ticket.url, headers }, PNG)).status, 200);
  return ticket as { uploadId: string; objectKey: string };
}

describe("GraphQL at /graphql", () => {
  let server: TestServer;
  before(async () => {
    server = await startStowage();
  });
  after(async () => server.close());

  it("confirms by objectKey among the caller's own uploads only, and wants exactly one of id and key", async () => {
    const ticket = await presignAndPut(server, "alice");
    const byKey = "mutation($k: String) { confirmMediaUpload(objectKey: $k) { success cdnUrl upload { id status } } }";
    const stranger = await graphql(server, "bob", byKey, { k: ticket.objectKey });
    assert.equal(stranger.body.errors?.[0]?.extensions.code, "NOT_FOUND");
    const own = await graphql(server, "alice", byKey, { k: ticket.objectKey });
    assert.deepEqual(own.body.data.confirmMediaUpload.upload, { id: ticket.uploadId, status: "confirmed" });
    assert.ok(own.body.data.confirmMediaUpload.cdnUrl.endsWith(ticket.objectKey));
    for (const variables of [{}, { id: ticket.uploadId, k: ticket.objectKey }]) {
      const answer = await graphql(server, "alice", "mutation($id: ID, $k: String) { confirmMediaUpload(uploadId: $id, objectKey: $k) { success } }", variables);
      assert.equal(answer.body.errors?.[0]?.extensions.code, "INVALID_REQUEST");
    }
  });

  it("carries byte counts beyond 32 bits (SafeInt) and refuses fractions and strings", async () => {
    const big = await graphql(server, "alice", GENERATE, { f: { ...avatar, size: 3_000_000_000 } });
    assert.equal(big.body.errors?.[0]?.extensions.code, "FILE_TOO_LARGE");
    assert.equal(big.body.errors?.[0]?.extensions.details.size, 3_000_000_000);
    for (const size of [1.5, "5", 2 ** 53]) {
      const answer = await graphql(server, "alice", GENERATE, { f: { ...avatar, size } });
      assert.equal(answer.body.errors?.[0]?.extensions.code, "INVALID_REQUEST", String(size));
      assert.equal(answer.status, 400, String(size));
    }
  });

  it("names the refused argument's field", async () => {
    const answer = await graphql(server, "alice", GENERATE, { f: { ...avatar, ownerId: ".hidden" } });
    assert.deepEqual(answer.body.errors?.[0]?.extensions, { code: "INVALID_REQUEST", details: { field: "fileInfo.ownerId" } });
    const cursor = await graphql(server, "alice", "{ uploads(after: \"nope\") { nextCursor } }");
    assert.deepEqual(cursor.body.errors?.[0]?.extensions.details, { field: "after" });
  });

  it("refuses deep, wide and batched queries, and a query that is no GraphQL, with 400 INVALID_REQUEST", async () => {
    const deep = "{ uploads { items { parent { type } rejection { code } } } }";
    assert.equal((await graphql(server, "alice", deep)).status, 200, "a normal query nests a few levels");
    const fragments = Array.from({ length: 10 }, (_, i) => `fragment F${i} on Upload { parent { ...F${i + 1} } }`).join(" ");
    const tooDeep = await graphql(server, "alice", `{ upload(id: "x") { ...F0 } } ${fragments.replace("...F10", "type")}`);
    assert.equal(tooDeep.status, 400);
    assert.equal(tooDeep.body.errors?.[0]?.extensions.code, "INVALID_REQUEST");
    const wide = await graphql(server, "alice", `mutation { ${Array.from({ length: 11 }, (_, i) => `a${i}: generateUploadUrl(fileInfo: {ownerType: "avatar", filename: "a", contentType: "image/png", size: 5}) { uploadId }`).join(" ")} }`);
    assert.equal(wide.status, 400);
    assert.match(wide.body.errors?.[0]?.message ?? "", /more than 10 root fields/);
    assert.deepEqual(wide.body.data, null);
    const fields = Array.from({ length: 600 }, (_, i) => `f${i}: id`).join(" ");
    const heavy = await graphql(server, "alice", `{ uploads { items { ${fields} } } }`);
    assert.equal(heavy.status, 400);
    assert.match(heavy.body.errors?.[0]?.message ?? "", /more than 500 fields/);
    const batch = await server.api("POST", "/graphql", { as: "alice", body: [{ query: "{ quota { usedBytes } }" }, { query: "{ quota { usedBytes } }" }] });
    assert.equal(batch.status, 400);
    assert.equal(batch.json().errors[0].extensions.code, "INVALID_REQUEST");
    for (const body of [{ query: "{ quota { usedBytes } }", variables: "x" }, { query: 5 }]) {
      const malformed = await server.api("POST", "/graphql", { as: "alice", body });
      assert.equal(malformed.status, 400, JSON.stringify(body));
      assert.equal(malformed.json().errors[0].extensions.code, "INVALID_REQUEST");
    }
    const garbage = await graphql(server, "alice", "{ upload(");
    assert.equal(garbage.status, 400);
    assert.equal(garbage.body.errors?.[0]?.extensions.code, "INVALID_REQUEST");
  });

  it("counts fragments that spread each other twice over in linear time, and refuses the 2^40 fields", { timeout: 20_000 }, async () => {
    const fragments = Array.from({ length: 40 }, (_, i) => `fragment F${i} on Query { ...F${i + 1} ...F${i + 1} }`).join(" ");
    const bomb = await graphql(server, "alice", `query { ...F0 } ${fragments} fragment F40 on Query { quota { usedBytes } }`);
    assert.equal(bomb.status, 400);
    assert.match(bomb.body.errors?.[0]?.message ?? "", /more than (10 root fields|500 fields)/);
  });

  it("refuses a missing or forged token on arrival, in GraphQL's answer shape", async () => {
    const missing = await graphql(server, undefined, "{ quota { usedBytes } }");
    assert.equal(missing.status, 401);
    assert.deepEqual(missing.body.data, null);
    assert.equal(missing.body.errors?.[0]?.extensions.code, "UNAUTHENTICATED");
    const forged = await server.api("POST", "/graphql", { token: await server.token("alice", { secret: "another-secret-that-is-long-enough-0123456789" }), body: { query: "{ quota { usedBytes } }" } });
    assert.equal(forged.status, 401);
    assert.equal(forged.json().errors[0].extensions.code, "UNAUTHENTICATED");
  });

  it("answers introspection on the embedded default, and is left out of the OpenAPI document", async () => {
    const schema = await graphql(server, "alice", "{ __schema { mutationType { fields { name } } } }");
    const names = schema.body.data.__schema.mutationType.fields.map((f: { name: string }) => f.name);
    assert.ok(names.includes("generateUploadUrl") && names.includes("confirmMediaUpload"));
    const doc = (await server.api("GET", "/openapi.json")).json();
    assert.deepEqual(Object.keys(doc.paths).filter((path) => path.includes("graphql")), []);
  });
});

describe("GraphQL in production", () => {
  let server: TestServer;
  before(async () => {
    server = await startStowage({ NODE_ENV: "production" });
  });
  after(async () => server.close());

  it("refuses introspection unless STOWAGE_GRAPHQL_INTROSPECTION turns it on, and serves no API docs", async () => {
    const answer = await graphql(server, "alice", "{ __schema { types { name } } }");
    assert.equal(answer.status, 400);
    assert.match(answer.body.errors?.[0]?.message ?? "", /introspection/i);
    assert.equal((await server.api("GET", "/openapi.json")).status, 404);
    assert.equal((await server.api("GET", "/docs/")).status, 404);
    assert.equal((await graphql(server, "alice", "{ quota { usedBytes } }")).status, 200);
  });
});

describe("GraphQL in production, with the API described on request", () => {
  // Each setting on its own server, so one that turned on the other's surface would be caught too.
  it("STOWAGE_API_DOCS=true serves /openapi.json and /docs, and leaves introspection off", async () => {
    const server = await startStowage({ NODE_ENV: "production", STOWAGE_API_DOCS: "true" });
    try {
      const doc = await server.api("GET", "/openapi.json");
      assert.equal(doc.status, 200);
      assert.equal(doc.json().openapi, "3.1.0");
      assert.ok(doc.json().paths["/v1/uploads"], "the document describes the REST routes");
      const page = await server.api("GET", "/docs/");
      assert.equal(page.status, 200);
      assert.match(page.body.toString(), /swagger-ui/i);
      const introspection = await graphql(server, "alice", "{ __schema { types { name } } }");
      assert.equal(introspection.status, 400);
      assert.match(introspection.body.errors?.[0]?.message ?? "", /introspection/i);
    } finally {
      await server.close();
    }
  });

  it("STOWAGE_GRAPHQL_INTROSPECTION=true answers introspection, and serves no API docs", async () => {
    const server = await startStowage({ NODE_ENV: "production", STOWAGE_GRAPHQL_INTROSPECTION: "true" });
    try {
      const schema = await graphql(server, "alice", "{ __schema { mutationType { fields { name } } } }");
      assert.equal(schema.status, 200);
      const names = schema.body.data.__schema.mutationType.fields.map((f: { name: string }) => f.name);
      assert.ok(names.includes("generateUploadUrl") && names.includes("confirmMediaUpload"), JSON.stringify(names));
      assert.equal((await server.api("GET", "/openapi.json")).status, 404);
      assert.equal((await server.api("GET", "/docs/")).status, 404);
    } finally {
      await server.close();
    }
  });
});

describe("the SEQ-IF-001 flow with Apollo Client", () => {
  let server: TestServer;
  before(async () => {
    server = await startStowage();
  });
  after(async () => server.close());

  it("generateUploadUrl → PUT → confirmMediaUpload → uploads, as the seed's SPA does", async () => {
    const token = await server.token("spa-user");
    const client = new ApolloClient({
      link: new HttpLink({ uri: `${server.baseUrl}/graphql`, headers: { authorization: `Bearer ${token}` } }),
      cache: new InMemoryCache(),
    });
    const generated = await client.mutate({
      mutation: gql`
        mutation GenerateUploadUrl($fileInfo: FileInfo!) {
          generateUploadUrl(fileInfo: $fileInfo) { uploadId objectKey kind method url headers { name value } expiresAt }
        }
      `,
      variables: { fileInfo: { ownerType: "avatar", filename: "profile.png", contentType: "image/png", size: PNG.length } },
    });
    type Ticket = { uploadId: string; objectKey: string; kind: string; url: string; headers: { name: string; value: string }[] };
    const ticket = (generated.data as { generateUploadUrl: Ticket }).generateUploadUrl;
    assert.equal(ticket.kind, "put");
    const put = await fetch(ticket.url, { method: "PUT", headers: Object.fromEntries(ticket.headers.map((h) => [h.name, h.value])), body: PNG });
    assert.equal(put.status, 200);

    const confirmed = await client.mutate({
      mutation: gql`
        mutation Confirm($uploadId: ID!) { confirmMediaUpload(uploadId: $uploadId) { success cdnUrl upload { id status size contentType } } }
      `,
      variables: { uploadId: ticket.uploadId },
    });
    type Result = { success: boolean; cdnUrl: string; upload: { id: string; status: string; size: number } };
    const result = (confirmed.data as { confirmMediaUpload: Result }).confirmMediaUpload;
    assert.equal(result.success, true);
    assert.equal(result.upload.status, "confirmed");
    assert.equal(result.upload.size, PNG.length);
    const served = await fetch(result.cdnUrl);
    assert.deepEqual(Buffer.from(await served.arrayBuffer()), PNG);

    const listed = await client.query({ query: gql`{ uploads(first: 10) { items { id status } nextCursor } quota { usedBytes } }`, fetchPolicy: "network-only" });
    const data = listed.data as { uploads: { items: { id: string; status: string }[] }; quota: { usedBytes: number } };
    assert.deepEqual(data.uploads.items.map((u) => u.id), [ticket.uploadId]);
    assert.equal(data.quota.usedBytes, PNG.length);

    // A refusal reaches Apollo Client as a GraphQL error with the stable code.
    await assert.rejects(
      client.mutate({
        mutation: gql`mutation($f: FileInfo!) { generateUploadUrl(fileInfo: $f) { uploadId } }`,
        variables: { f: { ownerType: "avatar", filename: "huge.png", contentType: "image/png", size: 10 ** 9 } },
      }),
      (error: { errors?: { extensions?: { code?: string } }[] }) => error.errors?.[0]?.extensions?.code === "FILE_TOO_LARGE",
    );
  });
});
